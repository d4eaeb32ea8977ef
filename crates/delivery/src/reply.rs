//! SMTP replies (RFC 5321 section 4.2) and the enhanced status codes in them (RFC 3463), read
//! from bytes without I/O.

use std::fmt;

use crate::command::REDACTED;

/// The longest reply accepted, all lines together. RFC 5321 allows 512 octets a line; a long
/// EHLO list or a multi-line rejection stays far below this, and a server that sends more is
/// broken or hostile, so memory stays bounded.
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// One complete reply of the server: its code and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code, such as 250 or 550.
    pub code: u16,
    /// The enhanced status code at the start of the first line, when there is one whose class
    /// agrees with the reply code.
    pub enhanced: Option<EnhancedStatus>,
    /// The text of each line after the code and its separator, as sent (enhanced code included).
    pub lines: Vec<String>,
}

impl Reply {
    /// Whether the code says the command succeeded (2xx).
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The text of all lines joined by spaces, without the enhanced status codes that repeat at
    /// the start of each line, for people to read.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .lines
            .iter()
            .map(|line| match split_enhanced(line, self.code) {
                Some((_, rest)) => rest,
                None => line.as_str(),
            })
            .filter(|text| !text.is_empty())
            .collect();
        texts.join(" ")
    }

    /// Replaces every occurrence of each of `secrets` in the text with `***`, longest first so
    /// that a secret inside another is not left half-shown.
    pub(crate) fn redact(&mut self, secrets: &[impl AsRef<str>]) {
        let mut secrets: Vec<&str> = secrets
            .iter()
            .map(AsRef::as_ref)
            .filter(|secret| !secret.is_empty())
            .collect();
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        for line in &mut self.lines {
            for secret in &secrets {
                if line.contains(secret) {
                    *line = line.replace(secret, REDACTED);
                }
            }
        }
    }

    /// The reply as it came over the wire, one string per line without the CRLF, for transcripts.
    pub fn wire_lines(&self) -> Vec<String> {
        let last = self.lines.len().saturating_sub(1);
        self.lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let separator = if index == last { ' ' } else { '-' };
                format!("{}{separator}{line}", self.code)
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.code)?;
        if let Some(enhanced) = self.enhanced {
            write!(formatter, " {enhanced}")?;
        }
        let text = self.text();
        if !text.is_empty() {
            write!(formatter, " {text}")?;
        }
        Ok(())
    }
}

/// An enhanced mail system status code, `class.subject.detail` (RFC 3463 section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnhancedStatus {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    /// What the status is about, such as 1 (addressing) or 7 (security).
    pub subject: u16,
    /// The detail within the subject.
    pub detail: u16,
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// Why bytes from the server are not a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReplyError {
    /// A line does not start with three digits followed by a space, a hyphen or the line end.
    #[error("the server sent a line that is not an SMTP reply: {0:?}")]
    Malformed(String),
    /// The reply grew past the limit without ending.
    #[error("the server's reply exceeds {MAX_REPLY_BYTES} bytes")]
    TooLong,
}

/// Reads one reply from the start of `buffer`. Returns the reply and how many bytes it took, or
/// `None` when the buffer does not hold a complete reply yet. A bare LF ends a line as CRLF does,
/// because some servers send it and nothing is gained by refusing them.
///
/// # Errors
/// [`ReplyError`] when the bytes cannot be a reply; the connection is then of no further use.
pub(crate) fn parse_reply(buffer: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    let mut code = None;
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(newline) = buffer[start..].iter().position(|&byte| byte == b'\n') {
        let end = start + newline + 1;
        let raw = &buffer[start..start + newline];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let (line_code, last, text) = parse_line(raw)?;
        let code = *code.get_or_insert(line_code);
        lines.push(text);
        start = end;
        if last {
            let enhanced = lines
                .first()
                .and_then(|first| split_enhanced(first, code))
                .map(|(status, _)| status);
            let reply = Reply {
                code,
                enhanced,
                lines,
            };
            return Ok(Some((reply, end)));
        }
    }
    match buffer.len() > MAX_REPLY_BYTES {
        true => Err(ReplyError::TooLong),
        false => Ok(None),
    }
}

/// Splits one line (without its line end) into its code, whether it is the last line, and its
/// text. A line of only the three digits is a last line with no text, which RFC 5321 section
/// 4.2 allows.
fn parse_line(raw: &[u8]) -> Result<(u16, bool, String), ReplyError> {
    let malformed = || ReplyError::Malformed(String::from_utf8_lossy(raw).into_owned());
    let (digits, rest) = match raw {
        [a, b, c, rest @ ..] if [a, b, c].iter().all(|digit| digit.is_ascii_digit()) => {
            ([*a, *b, *c], rest)
        }
        _ => return Err(malformed()),
    };
    let code = digits
        .iter()
        .fold(0u16, |code, digit| code * 10 + u16::from(digit - b'0'));
    if !(200..600).contains(&code) {
        return Err(malformed());
    }
    let (last, text) = match rest {
        [] => (true, &[][..]),
        [b' ', text @ ..] => (true, text),
        [b'-', text @ ..] => (false, text),
        _ => return Err(malformed()),
    };
    Ok((code, last, String::from_utf8_lossy(text).into_owned()))
}

/// Reads the enhanced status code at the start of `text` and returns it with the text after it.
/// Its class must equal the first digit of the reply code (RFC 2034 section 4), which keeps text
/// such as "2.0 ready" or an IP address from being taken for one.
fn split_enhanced(text: &str, code: u16) -> Option<(EnhancedStatus, &str)> {
    let (candidate, rest) = text.split_once(' ').unwrap_or((text, ""));
    let mut parts = candidate.split('.');
    let class: u8 = parts.next()?.parse().ok()?;
    let subject = number(parts.next()?)?;
    let detail = number(parts.next()?)?;
    if parts.next().is_some() || u16::from(class) != code / 100 {
        return None;
    }
    let status = EnhancedStatus {
        class,
        subject,
        detail,
    };
    Some((status, rest.trim_start()))
}

/// A subject or detail: one to three digits (RFC 3463 section 2).
fn number(text: &str) -> Option<u16> {
    let digits_only =
        !text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit());
    match digits_only {
        true => text.parse().ok(),
        false => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expect: Option<(&str, usize)>) {
        let parsed = parse_reply(input.as_bytes()).unwrap();
        let shown = parsed.map(|(reply, used)| {
            let enhanced = reply
                .enhanced
                .map_or("-".to_owned(), |status| status.to_string());
            (
                format!("{} [{enhanced}] {:?}", reply.code, reply.lines),
                used,
            )
        });
        assert_eq!(
            shown,
            expect.map(|(text, used)| (text.to_owned(), used)),
            "{input:?}"
        );
    }

    #[test]
    fn replies_single_and_multiline() {
        check(
            "220 mx.test ESMTP\r\n",
            Some(("220 [-] [\"mx.test ESMTP\"]", 19)),
        );
        check(
            "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\nrest",
            Some(("250 [-] [\"mx.test\", \"PIPELINING\", \"SIZE 1000\"]", 44)),
        );
        check("250\r\n", Some(("250 [-] [\"\"]", 5)));
        check("250 ok\n", Some(("250 [-] [\"ok\"]", 7)));
        check(
            "550 5.1.1 <a@b.test>: user unknown\r\n",
            Some(("550 [5.1.1] [\"5.1.1 <a@b.test>: user unknown\"]", 36)),
        );
        check(
            "451 4.7.650 rate limited\r\n",
            Some(("451 [4.7.650] [\"4.7.650 rate limited\"]", 26)),
        );
    }

    #[test]
    fn incomplete_replies_wait_for_more() {
        check("", None);
        check("250-first\r\n250-sec", None);
        check("250 no line end", None);
    }

    #[test]
    fn enhanced_codes_must_match_the_class() {
        check("250 5.0.0 odd\r\n", Some(("250 [-] [\"5.0.0 odd\"]", 15)));
        check("250 2.0 ready\r\n", Some(("250 [-] [\"2.0 ready\"]", 15)));
        check("250 2.0.1234 x\r\n", Some(("250 [-] [\"2.0.1234 x\"]", 16)));
        check(
            "421 127.0.0.1 closing\r\n",
            Some(("421 [-] [\"127.0.0.1 closing\"]", 23)),
        );
    }

    #[test]
    fn text_drops_repeated_enhanced_codes() {
        let (reply, _) = parse_reply(b"550-5.1.1 No such user.\r\n550 5.1.1 See help.\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(reply.text(), "No such user. See help.");
        assert_eq!(reply.to_string(), "550 5.1.1 No such user. See help.");
        assert_eq!(
            reply.wire_lines(),
            ["550-5.1.1 No such user.", "550 5.1.1 See help."]
        );
    }

    #[test]
    fn garbage_is_refused() {
        for input in [
            "hello\r\n",
            "25 x\r\n",
            "250x\r\n",
            "099 x\r\n",
            "600 x\r\n",
        ] {
            assert!(
                matches!(parse_reply(input.as_bytes()), Err(ReplyError::Malformed(_))),
                "{input:?}"
            );
        }
        let endless = format!("250-{}", "x".repeat(MAX_REPLY_BYTES));
        assert_eq!(parse_reply(endless.as_bytes()), Err(ReplyError::TooLong));
    }

    #[test]
    fn secrets_are_redacted() {
        let (mut reply, _) =
            parse_reply(b"501-cannot decode AHVzZXIAcGFzcw==\r\n501 pass? pass\r\n")
                .unwrap()
                .unwrap();
        reply.redact(&["pass", "AHVzZXIAcGFzcw==", ""]);
        assert_eq!(reply.lines, ["cannot decode ***", "***? ***"]);
    }
}
