//! DKIM canonicalisation (RFC 6376 section 3.4): the "simple" and "relaxed" forms of header
//! fields and bodies that signer and verifier hash. Input is always CRLF text.

use std::fmt;

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
        match text.to_ascii_lowercase().as_str() {
            "simple" => Some(Self::Simple),
            "relaxed" => Some(Self::Relaxed),
            _ => None,
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
fn relaxed_value(value: &[u8], output: &mut Vec<u8>) {
    let mut pending_space = false;
    let mut wrote_anything = false;
    for &byte in value {
        match byte {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => pending_space = true,
            other => {
                if pending_space && wrote_anything {
                    output.push(b' ');
                }
                pending_space = false;
                wrote_anything = true;
                output.push(other);
            }
        }
    }
}

/// The canonical body. `simple` keeps every line but drops trailing empty lines (an empty body
/// becomes one CRLF); `relaxed` also drops white space at line ends, folds inner runs of white
/// space into one space and turns an empty body into nothing. Lines made only of white space
/// become empty under `relaxed`, so they too are dropped when they end the body.
pub fn body(canonicalization: Canonicalization, body: &[u8]) -> Vec<u8> {
    let mut output = Vec::with_capacity(body.len() + 2);
    match canonicalization {
        Canonicalization::Simple => {
            output.extend_from_slice(body);
            if !output.is_empty() && !output.ends_with(b"\r\n") {
                output.extend_from_slice(b"\r\n");
            }
            while output.ends_with(b"\r\n\r\n") {
                output.truncate(output.len() - 2);
            }
            if output.is_empty() {
                output.extend_from_slice(b"\r\n");
            }
        }
        Canonicalization::Relaxed => {
            for line in split_lines(body) {
                let mut pending_space = false;
                for &byte in line {
                    if is_wsp(byte) {
                        pending_space = true;
                    } else {
                        if pending_space {
                            output.push(b' ');
                        }
                        pending_space = false;
                        output.push(byte);
                    }
                }
                output.extend_from_slice(b"\r\n");
            }
            while output.ends_with(b"\r\n\r\n") {
                output.truncate(output.len() - 2);
            }
            if output == b"\r\n" {
                output.clear();
            }
        }
    }
    output
}

/// Lines of a CRLF body without their line endings; a last line without CRLF counts as a line.
fn split_lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = body;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.windows(2).position(|pair| pair == b"\r\n") {
            Some(at) => {
                let line = &rest[..at];
                rest = &rest[at + 2..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = &[];
                Some(line)
            }
        }
    })
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

    #[track_caller]
    fn check_body(canonicalization: Canonicalization, input: &[u8], expected: &[u8]) {
        assert_eq!(
            String::from_utf8_lossy(&body(canonicalization, input)),
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
    }

    #[test]
    fn simple_headers() {
        use Canonicalization::Simple;
        check_header(Simple, b"B : Y\t\r\n\tZ  \r\n", b"B : Y\t\r\n\tZ  \r\n");
    }

    #[test]
    fn bodies() {
        use Canonicalization::{Relaxed, Simple};
        // RFC 6376 section 3.4.6, the example body.
        check_body(Relaxed, b" C \r\nD \t E\r\n\r\n\r\n", b" C\r\nD E\r\n");
        check_body(Simple, b" C \r\nD \t E\r\n\r\n\r\n", b" C \r\nD \t E\r\n");
        check_body(Simple, b"", b"\r\n");
        check_body(Relaxed, b"", b"");
        check_body(Simple, b"\r\n\r\n", b"\r\n");
        check_body(Relaxed, b"\r\n\r\n", b"");
        check_body(Simple, b"no final crlf", b"no final crlf\r\n");
        check_body(Relaxed, b"no final crlf  ", b"no final crlf\r\n");
        // Lines of white space at the end vanish under relaxed, not under simple.
        check_body(Relaxed, b"text\r\n  \r\n\t\r\n", b"text\r\n");
        check_body(Simple, b"text\r\n  \r\n", b"text\r\n  \r\n");
    }
}
