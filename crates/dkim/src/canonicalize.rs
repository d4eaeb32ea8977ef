//! DKIM canonicalisation (RFC 6376 section 3.4): the "simple" and "relaxed" forms of header
//! fields and bodies that signer and verifier hash. Input is always CRLF text.

use std::fmt;

use crate::scan;

mod body;

pub(crate) use body::body_hash;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canonicalization {
    Simple,
    Relaxed,
}

impl Canonicalization {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Relaxed => "relaxed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("simple") {
            Some(Self::Simple)
        } else if text.eq_ignore_ascii_case("relaxed") {
            Some(Self::Relaxed)
        } else {
            None
        }
    }
}

impl fmt::Display for Canonicalization {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Appends the canonical form of one whole header field (`raw` runs from its name to its final
/// CRLF, which may be missing on the last line of a header-only message).
pub fn header(canonicalization: Canonicalization, raw: &[u8], output: &mut Vec<u8>) {
    match canonicalization {
        Canonicalization::Simple => {
            output.extend_from_slice(raw);
            if !raw.ends_with(b"\r\n") {
                output.extend_from_slice(b"\r\n");
            }
        }
        Canonicalization::Relaxed => {
            let colon = raw
                .iter()
                .position(|&byte| byte == b':')
                .unwrap_or(raw.len());
            let name = &raw[..colon];
            for &byte in name {
                if !is_wsp(byte) {
                    output.push(byte.to_ascii_lowercase());
                }
            }
            output.push(b':');
            relaxed_value(raw.get(colon + 1..).unwrap_or_default(), output);
            output.extend_from_slice(b"\r\n");
        }
    }
}

/// Unfolds a header value, turns every run of white space into one space and trims both ends.
/// CR and LF are dropped wherever they stand (unfolding), without counting as white space.
/// The bytes between them are copied a run at a time.
fn relaxed_value(value: &[u8], output: &mut Vec<u8>) {
    let mut pending_space = false;
    let mut wrote_anything = false;
    let mut rest = value;
    while let Some(&byte) = rest.first() {
        match byte {
            b'\r' | b'\n' => rest = &rest[1..],
            b' ' | b'\t' => {
                pending_space = true;
                rest = &rest[1..];
            }
            _ => {
                // Block-wise: a signature's b= value is one run of hundreds of bytes.
                let end = scan::folding_white_space(rest).unwrap_or(rest.len());
                if pending_space && wrote_anything {
                    output.push(b' ');
                }
                pending_space = false;
                wrote_anything = true;
                output.extend_from_slice(&rest[..end]);
                rest = &rest[end..];
            }
        }
    }
}

fn is_wsp(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_header(canonicalization: Canonicalization, raw: &[u8], expected: &[u8]) {
        let mut output = Vec::new();
        header(canonicalization, raw, &mut output);
        assert_eq!(
            String::from_utf8_lossy(&output),
            String::from_utf8_lossy(expected)
        );
    }

    #[test]
    fn relaxed_headers() {
        use Canonicalization::Relaxed;
        // RFC 6376 section 3.4.6, first example.
        check_header(Relaxed, b"A: X\r\n", b"a:X\r\n");
        check_header(Relaxed, b"B : Y\t\r\n\tZ  \r\n", b"b:Y Z\r\n");
        check_header(Relaxed, b"Subject:   \r\n", b"subject:\r\n");
        check_header(Relaxed, b"To: a@b\r\n", b"to:a@b\r\n");
        check_header(Relaxed, b"X: no crlf", b"x:no crlf\r\n");
        // Unfolding drops CR and LF wherever they stand; they do not count as white space.
        check_header(Relaxed, b"X: a\nb \t c\r\n", b"x:ab c\r\n");
        check_header(Relaxed, b"X:\r\n a\r\n\t\r\n b \r\n", b"x:a b\r\n");
        check_header(Relaxed, b"X: one\rtwo\r\n", b"x:onetwo\r\n");
    }

    #[test]
    fn simple_headers() {
        use Canonicalization::Simple;
        check_header(Simple, b"B : Y\t\r\n\tZ  \r\n", b"B : Y\t\r\n\tZ  \r\n");
    }
}
