//! DKIM canonicalisation (RFC 6376 section 3.4): the "simple" and "relaxed" forms of header
//! fields and bodies that signer and verifier hash. Input is always CRLF text.

use std::borrow::Cow;
use std::fmt;

use aws_lc_rs::digest::{Context, Digest, SHA256};

use crate::scan;

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

/// A canonical body: the message's own bytes when canonicalisation only trims it (`simple`),
/// a rewritten copy when it changes lines (`relaxed`), plus a CRLF that `simple` may add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CanonicalBody<'a> {
    head: Cow<'a, [u8]>,
    tail: &'static [u8],
}

impl CanonicalBody<'_> {
    /// The length of the canonical body in bytes.
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// SHA-256 over the first `length` bytes (all of them, or what `l=` covers), hashed where
    /// they lie instead of being copied together first.
    pub fn digest(&self, length: usize) -> Digest {
        let mut context = Context::new(&SHA256);
        let from_head = length.min(self.head.len());
        context.update(&self.head[..from_head]);
        let from_tail = (length - from_head).min(self.tail.len());
        context.update(&self.tail[..from_tail]);
        context.finish()
    }

    #[cfg(test)]
    fn to_vec(&self) -> Vec<u8> {
        [self.head.as_ref(), self.tail].concat()
    }
}

/// The canonical body. `simple` keeps every line but drops trailing empty lines (an empty body
/// becomes one CRLF); `relaxed` also drops white space at line ends, folds inner runs of white
/// space into one space and turns an empty body into nothing. Lines made only of white space
/// become empty under `relaxed`, so they too are dropped when they end the body. Only CRLF ends
/// a line: a bare CR or LF is an ordinary byte of its line.
pub(crate) fn body(canonicalization: Canonicalization, body: &[u8]) -> CanonicalBody<'_> {
    match canonicalization {
        Canonicalization::Simple => simple_body(body),
        Canonicalization::Relaxed => relaxed_body(body),
    }
}

fn simple_body(body: &[u8]) -> CanonicalBody<'_> {
    if !body.ends_with(b"\r\n") {
        // An empty body becomes one CRLF; a last line without CRLF gets one, and then the body
        // cannot end in an empty line.
        return CanonicalBody {
            head: Cow::Borrowed(body),
            tail: b"\r\n",
        };
    }
    let mut end = body.len();
    while body[..end].ends_with(b"\r\n\r\n") {
        end -= 2;
    }
    CanonicalBody {
        head: Cow::Borrowed(&body[..end]),
        tail: b"",
    }
}

fn relaxed_body(body: &[u8]) -> CanonicalBody<'_> {
    let mut output = Vec::with_capacity(body.len() + 2);
    let mut rest = body;
    while !rest.is_empty() {
        let (line, next) = match scan::crlf(rest) {
            Some(at) => (&rest[..at], &rest[at + 2..]),
            None => (rest, &rest[rest.len()..]),
        };
        if scan::needs_relaxing(line) {
            relaxed_line(line, &mut output);
        } else {
            output.extend_from_slice(line);
        }
        output.extend_from_slice(b"\r\n");
        rest = next;
    }
    while output.ends_with(b"\r\n\r\n") {
        output.truncate(output.len() - 2);
    }
    if output == b"\r\n" {
        output.clear();
    }
    CanonicalBody {
        head: Cow::Owned(output),
        tail: b"",
    }
}

/// One body line under `relaxed`: runs of white space become one space, and none ends it.
fn relaxed_line(line: &[u8], output: &mut Vec<u8>) {
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
        let canonical = body(canonicalization, input);
        assert_eq!(
            String::from_utf8_lossy(&canonical.to_vec()),
            String::from_utf8_lossy(expected)
        );
        assert_eq!(canonical.len(), expected.len());
        let whole = aws_lc_rs::digest::digest(&SHA256, expected);
        assert_eq!(canonical.digest(expected.len()).as_ref(), whole.as_ref());
        for length in 0..expected.len() {
            let prefix = aws_lc_rs::digest::digest(&SHA256, &expected[..length]);
            assert_eq!(canonical.digest(length).as_ref(), prefix.as_ref());
        }
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

    #[test]
    fn bare_line_ends_are_ordinary_bytes() {
        use Canonicalization::{Relaxed, Simple};
        check_body(Simple, b"a\rb\nc\r\n", b"a\rb\nc\r\n");
        check_body(Relaxed, b"a\rb\nc\r\n", b"a\rb\nc\r\n");
        check_body(Simple, b"ends in CR\r", b"ends in CR\r\r\n");
        check_body(Relaxed, b"ends in CR\r", b"ends in CR\r\r\n");
        check_body(Simple, b"\n", b"\n\r\n");
        check_body(Relaxed, b"\n\r\n\r\n", b"\n\r\n");
        // A CR before a line's CRLF is not white space, so it stays.
        check_body(Relaxed, b"x \r\r\n", b"x \r\r\n");
    }

    #[test]
    fn white_space_at_line_ends_and_inside_lines() {
        use Canonicalization::{Relaxed, Simple};
        check_body(Relaxed, b"a \t b\t\r\n\t c  \r\n", b"a b\r\n c\r\n");
        check_body(Relaxed, b"  \r\n", b"");
        check_body(Relaxed, b" \t \r\n\r\nx\r\n \r\n", b"\r\n\r\nx\r\n");
        check_body(Relaxed, b"x\r\n\r\n \t", b"x\r\n");
        check_body(Simple, b"x \r\n\r\n\r\n", b"x \r\n");
        check_body(Simple, b"\r\n", b"\r\n");
        check_body(Simple, b"\r\nx", b"\r\nx\r\n");
        check_body(Relaxed, b"\r\nx", b"\r\nx\r\n");
    }

    #[test]
    fn long_bodies_match_the_line_by_line_rule() {
        use Canonicalization::Relaxed;
        let line = "Some words,  a tab\tand a trailing space \r\n";
        let plain = "Plain words only, nothing to change here at all.\r\n";
        let input = format!("{}{}\r\n\r\n", line.repeat(40), plain.repeat(40));
        let expected = format!(
            "{}{}",
            "Some words, a tab and a trailing space\r\n".repeat(40),
            plain.repeat(40)
        );
        check_body(Relaxed, input.as_bytes(), expected.as_bytes());
    }
}
