//! A raw RFC 5322 message split into header fields and body, without copying: the view that
//! canonicalisation, signing and verification work on. Also the one place that turns any line
//! ending into CRLF, so that what is signed is byte for byte what SMTP later sends.

use std::borrow::Cow;

use crate::scan;

/// One header field as it appears in the message: its name and the complete field, from the
/// first byte of the name to the CRLF that ends its last line, folding included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderField<'a> {
    pub name: &'a [u8],
    /// Everything after the colon, folding and the final CRLF included.
    pub value: &'a [u8],
    /// The whole field as it stands in the message.
    pub raw: &'a [u8],
}

impl HeaderField<'_> {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value unfolded and trimmed, for reading tags and addresses (not for hashing).
    pub fn unfolded_value(&self) -> String {
        let text = String::from_utf8_lossy(self.value);
        // Most values are one line: without a CR there is nothing to unfold, and no copy to make
        // for it (verification reads From this way for every message).
        if !text.contains('\r') {
            return text.trim().to_owned();
        }
        text.replace("\r\n", "").trim().to_owned()
    }
}

/// A message in CRLF form, split at the blank line that ends the header.
#[derive(Debug, Clone)]
pub struct ParsedMessage<'a> {
    pub headers: Vec<HeaderField<'a>>,
    pub body: &'a [u8],
    /// Where the body starts, so that a header can be inserted in front of it.
    pub header_end: usize,
}

/// Why a message cannot be signed or verified as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message is empty")]
    Empty,
    #[error("line {line} of the header is neither a header field nor a continuation line")]
    MalformedHeader { line: usize },
    #[error("the message has no header fields")]
    NoHeader,
}

/// Rewrites every line ending (bare LF, bare CR, CRLF) as CRLF. Signing happens on this form,
/// and SMTP carries it unchanged, so no later step can alter signed bytes. Mail that arrived
/// over SMTP is CRLF already: one vectorised check, and the input itself, not a copy.
pub fn normalize_line_endings(input: &[u8]) -> Cow<'_, [u8]> {
    if scan::is_crlf_only(input) {
        return Cow::Borrowed(input);
    }
    let mut output = Vec::with_capacity(input.len() + input.len() / 32);
    let mut rest = input;
    while let Some(at) = scan::line_break(rest) {
        output.extend_from_slice(&rest[..at]);
        output.extend_from_slice(b"\r\n");
        let width = match &rest[at..] {
            [b'\r', b'\n', ..] => 2,
            _ => 1,
        };
        rest = &rest[at + width..];
    }
    output.extend_from_slice(rest);
    Cow::Owned(output)
}

impl<'a> ParsedMessage<'a> {
    /// Splits a CRLF message. A message that ends inside its header (no blank line) has an empty
    /// body, as RFC 5322 allows.
    pub fn parse(message: &'a [u8]) -> Result<Self, MessageError> {
        if message.is_empty() {
            return Err(MessageError::Empty);
        }
        // Room for the fields of a usual message, so that reading them does not regrow the list,
        // and no more than the allocator hands out from its per-thread cache (about 1 KB).
        let mut headers: Vec<HeaderField<'a>> = Vec::with_capacity(20);
        let mut position = 0;
        let mut line_number = 0;
        // Index in `message` where the field being read started, and where its colon is.
        let mut current: Option<(usize, usize)> = None;
        let finish = |headers: &mut Vec<HeaderField<'a>>, start: usize, colon: usize, end| {
            headers.push(HeaderField {
                name: trim_end_wsp(&message[start..colon]),
                value: &message[colon + 1..end],
                raw: &message[start..end],
            });
        };
        loop {
            line_number += 1;
            let line_end = find_crlf(message, position).map_or(message.len(), |at| at + 2);
            let line = &message[position..line_end];
            let content = line.strip_suffix(b"\r\n").unwrap_or(line);
            if content.is_empty() {
                if let Some((start, colon)) = current.take() {
                    finish(&mut headers, start, colon, position);
                }
                if headers.is_empty() {
                    return Err(MessageError::NoHeader);
                }
                return Ok(Self {
                    headers,
                    body: &message[line_end..],
                    header_end: line_end,
                });
            }
            if matches!(content[0], b' ' | b'\t') {
                if current.is_none() {
                    return Err(MessageError::MalformedHeader { line: line_number });
                }
            } else {
                if let Some((start, colon)) = current.take() {
                    finish(&mut headers, start, colon, position);
                }
                let colon = content
                    .iter()
                    .position(|&byte| byte == b':')
                    .filter(|&colon| is_field_name(trim_end_wsp(&content[..colon])))
                    .ok_or(MessageError::MalformedHeader { line: line_number })?;
                current = Some((position, position + colon));
            }
            position = line_end;
            if position >= message.len() {
                if let Some((start, colon)) = current.take() {
                    finish(&mut headers, start, colon, position);
                }
                return Ok(Self {
                    headers,
                    body: &message[message.len()..],
                    header_end: message.len(),
                });
            }
        }
    }

    /// The fields with this name, in message order.
    pub fn fields<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s HeaderField<'a>> + 's {
        self.headers.iter().filter(move |field| field.is(name))
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields(name).next().is_some()
    }
}

fn find_crlf(haystack: &[u8], from: usize) -> Option<usize> {
    scan::crlf(&haystack[from..]).map(|at| from + at)
}

fn trim_end_wsp(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&byte| !matches!(byte, b' ' | b'\t'))
        .map_or(0, |at| at + 1);
    &bytes[..end]
}

/// RFC 5322 field names: printable US-ASCII except the colon.
fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&byte| (33..=126).contains(&byte) && byte != b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normalised text, and that text already in CRLF form is the input itself.
    #[track_caller]
    fn check_normalize(input: &[u8], expected: &[u8]) {
        let normalized = normalize_line_endings(input);
        assert_eq!(normalized, expected);
        assert_eq!(matches!(normalized, Cow::Borrowed(_)), input == expected);
    }

    #[test]
    fn line_endings_become_crlf() {
        check_normalize(b"a\nb\n", b"a\r\nb\r\n");
        check_normalize(b"a\r\nb\r\n", b"a\r\nb\r\n");
        check_normalize(b"a\rb\r", b"a\r\nb\r\n");
        check_normalize(b"a\r\r\nb", b"a\r\n\r\nb");
        check_normalize(b"", b"");
        check_normalize(b"\n", b"\r\n");
        check_normalize(b"\r", b"\r\n");
        check_normalize(b"\n\r", b"\r\n\r\n");
        check_normalize(b"a\r\n\nb", b"a\r\n\r\nb");
        check_normalize(b"no line end", b"no line end");
        let long_lf = "A line of text that is longer than one block of the scan.\n".repeat(20);
        let long_crlf = long_lf.replace('\n', "\r\n");
        check_normalize(long_lf.as_bytes(), long_crlf.as_bytes());
        check_normalize(long_crlf.as_bytes(), long_crlf.as_bytes());
    }

    #[test]
    fn splits_header_and_body() {
        let message = b"From: a@b.example\r\nSubject: x\r\n  folded\r\n\r\nbody\r\n";
        let parsed = ParsedMessage::parse(message).unwrap();
        assert_eq!(parsed.headers.len(), 2);
        assert_eq!(parsed.headers[1].name, b"Subject");
        assert_eq!(parsed.headers[1].raw, b"Subject: x\r\n  folded\r\n");
        assert_eq!(parsed.headers[1].unfolded_value(), "x  folded");
        assert_eq!(parsed.body, b"body\r\n");
    }

    #[test]
    fn header_without_body() {
        let parsed = ParsedMessage::parse(b"From: a@b.example\r\n").unwrap();
        assert_eq!(parsed.headers.len(), 1);
        assert_eq!(parsed.body, b"");
        let parsed = ParsedMessage::parse(b"From: a@b.example").unwrap();
        assert_eq!(parsed.headers[0].raw, b"From: a@b.example");
    }

    #[test]
    fn refuses_malformed_headers() {
        assert_eq!(ParsedMessage::parse(b"").unwrap_err(), MessageError::Empty);
        assert_eq!(
            ParsedMessage::parse(b" continuation first\r\n\r\n").unwrap_err(),
            MessageError::MalformedHeader { line: 1 }
        );
        assert_eq!(
            ParsedMessage::parse(b"From: a@b.example\r\nno colon here\r\n\r\n").unwrap_err(),
            MessageError::MalformedHeader { line: 2 }
        );
        assert_eq!(
            ParsedMessage::parse(b"\r\nbody").unwrap_err(),
            MessageError::NoHeader
        );
    }
}
