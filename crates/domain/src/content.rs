//! What a ready message (raw over HTTP, or SMTP DATA) must be before Sealpost signs it, so that
//! no message is accepted with 202/250 and then wrapped, refused or bounced by the receiver:
//! no NUL bytes, no line over 998 octets (RFC 5322 2.1.1), no 8-bit bytes in the header (which
//! would need SMTPUTF8, RFC 6532, which Sealpost does not offer) and no more than the size limit.

use std::fmt;

use crate::limits::message::{MAX_BYTES, MAX_LINE_OCTETS};

/// The first thing wrong with a message, with the line it is on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentProblem {
    TooLarge { bytes: usize },
    Nul { line: usize },
    LineTooLong { line: usize, octets: usize },
    EightBitHeader { line: usize },
}

impl fmt::Display for ContentProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { bytes } => write!(
                formatter,
                "the message is {bytes} bytes; at most {MAX_BYTES} bytes are accepted"
            ),
            Self::Nul { line } => write!(
                formatter,
                "line {line} of the message holds a NUL byte, which mail may not carry; remove \
                 it or send the content as a base64 attachment"
            ),
            Self::LineTooLong { line, octets } => write!(
                formatter,
                "line {line} of the message is {octets} bytes long; a line may be at most \
                 {MAX_LINE_OCTETS} bytes (RFC 5322 2.1.1): fold long header fields and encode \
                 long body lines as quoted-printable or base64"
            ),
            Self::EightBitHeader { line } => write!(
                formatter,
                "line {line} of the header holds non-ASCII bytes; encode them as RFC 2047 \
                 encoded words (=?UTF-8?B?...?=), since Sealpost does not send SMTPUTF8"
            ),
        }
    }
}

/// Checks a message whose line endings may be CRLF or bare LF.
pub fn check_content(message: &[u8]) -> Result<(), ContentProblem> {
    if message.len() > MAX_BYTES {
        return Err(ContentProblem::TooLarge {
            bytes: message.len(),
        });
    }
    let mut in_header = true;
    for (index, line) in message.split(|&byte| byte == b'\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.contains(&0) {
            return Err(ContentProblem::Nul { line: number });
        }
        if line.len() > MAX_LINE_OCTETS {
            return Err(ContentProblem::LineTooLong {
                line: number,
                octets: line.len(),
            });
        }
        if in_header && line.is_empty() {
            in_header = false;
        }
        if in_header && !line.is_ascii() {
            return Err(ContentProblem::EightBitHeader { line: number });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(message: &[u8], expect: Result<(), ContentProblem>) {
        assert_eq!(check_content(message), expect);
    }

    #[test]
    fn messages() {
        check(b"From: a@client.example\r\n\r\nbody\r\n", Ok(()));
        check("Subject: x\n\nGrüße\n".as_bytes(), Ok(()));
        check(
            "Subject: Grüße\n\nbody\n".as_bytes(),
            Err(ContentProblem::EightBitHeader { line: 1 }),
        );
        check(
            b"Subject: x\r\n\r\nab\0c\r\n",
            Err(ContentProblem::Nul { line: 3 }),
        );
        let long = format!("Subject: x\n\n{}\n", "a".repeat(999));
        check(
            long.as_bytes(),
            Err(ContentProblem::LineTooLong {
                line: 3,
                octets: 999,
            }),
        );
        let longest = format!("Subject: x\r\n\r\n{}\r\n", "a".repeat(998));
        check(longest.as_bytes(), Ok(()));
        let header = format!("Subject: {}\n\nbody\n", "a".repeat(5000));
        assert!(
            check_content(header.as_bytes())
                .unwrap_err()
                .to_string()
                .starts_with("line 1 of the message is 5009 bytes long")
        );
    }
}
