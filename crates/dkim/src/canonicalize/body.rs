//! Body canonicalisation (RFC 6376 sections 3.4.3 and 3.4.4) streamed into SHA-256: no
//! canonical copy of the body is built. `simple` hashes the message's own bytes; `relaxed`
//! hashes unchanged stretches of lines where they lie and writes only the lines it changes,
//! through a small fixed buffer. The hash covers the first `l=` bytes when a limit is given,
//! while the length of the whole canonical body is still counted.

use std::ops::Range;

use aws_lc_rs::digest::{Context, Digest, SHA256};

use super::{Canonicalization, is_wsp};
use crate::scan;

/// The hash of a canonical body and how long the whole canonical body is.
pub(crate) struct BodyHash {
    /// SHA-256 over the canonical body, or over its first `limit` bytes.
    pub digest: Digest,
    /// The length of the whole canonical body, however much of it was hashed.
    pub length: usize,
}

/// Hashes the canonical form of `body`, at most its first `limit` bytes. `simple` keeps every
/// line but drops trailing empty lines (an empty body becomes one CRLF); `relaxed` also drops
/// white space at line ends, folds inner runs of white space into one space and turns an empty
/// body into nothing. Lines made only of white space become empty under `relaxed`, so they too
/// are dropped when they end the body. Only CRLF ends a line: a bare CR or LF is an ordinary
/// byte of its line.
pub(crate) fn body_hash(
    canonicalization: Canonicalization,
    body: &[u8],
    limit: Option<usize>,
) -> BodyHash {
    let mut hasher = PrefixHasher {
        context: Context::new(&SHA256),
        limit: limit.unwrap_or(usize::MAX),
        length: 0,
    };
    canonical_body(canonicalization, body, &mut hasher);
    BodyHash {
        digest: hasher.context.finish(),
        length: hasher.length,
    }
}

/// Where canonical bytes go, in order: the hasher, or a vector in tests.
pub(crate) trait Output {
    fn write(&mut self, bytes: &[u8]);
}

/// Hashes what it is given up to `limit` bytes and counts all of it.
struct PrefixHasher {
    context: Context,
    limit: usize,
    length: usize,
}

impl Output for PrefixHasher {
    fn write(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.length);
        self.context.update(&bytes[..bytes.len().min(room)]);
        self.length += bytes.len();
    }
}

impl Output for Vec<u8> {
    fn write(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Writes the canonical form of `body` to `output`.
pub(crate) fn canonical_body(
    canonicalization: Canonicalization,
    body: &[u8],
    output: &mut impl Output,
) {
    match canonicalization {
        Canonicalization::Simple => simple_body(body, output),
        Canonicalization::Relaxed => relaxed_body(body, output),
    }
}

fn simple_body(body: &[u8], output: &mut impl Output) {
    if !body.ends_with(b"\r\n") {
        // An empty body becomes one CRLF; a last line without CRLF gets one, and then the body
        // cannot end in an empty line.
        output.write(body);
        output.write(b"\r\n");
        return;
    }
    let mut end = body.len();
    while body[..end].ends_with(b"\r\n\r\n") {
        end -= 2;
    }
    output.write(&body[..end]);
}

/// The relaxed body, line by line. Empty lines (after relaxing) are held back, counted, until a
/// line with content follows them: those that end the body are never written.
fn relaxed_body(body: &[u8], output: &mut impl Output) {
    let mut sink = Sink::new(body, output);
    // Empty lines held back: where the first starts, how many, and whether all of them are a
    // bare CRLF in the input (then they are written as the input stands).
    let mut held_from = 0;
    let mut held = 0;
    let mut held_verbatim = true;
    let mut start = 0;
    while start < body.len() {
        let rest = &body[start..];
        let (content, has_crlf) = match scan::crlf(rest) {
            Some(at) => (&rest[..at], true),
            None => (rest, false),
        };
        let end = start + content.len() + if has_crlf { 2 } else { 0 };
        if content.iter().all(|&byte| is_wsp(byte)) {
            if held == 0 {
                held_from = start;
                held_verbatim = true;
            }
            held += 1;
            held_verbatim &= content.is_empty() && has_crlf;
        } else {
            if held > 0 {
                if held_verbatim {
                    sink.verbatim(held_from..start);
                } else {
                    for _ in 0..held {
                        sink.rewritten(b"\r\n");
                    }
                }
                held = 0;
            }
            if has_crlf && !scan::needs_relaxing(content) {
                sink.verbatim(start..end);
            } else {
                relaxed_line(content, &mut sink);
                sink.rewritten(b"\r\n");
            }
        }
        start = end;
    }
    sink.finish();
}

/// One body line with content under `relaxed`: runs of white space become one space, and none
/// ends it. The words between are written whole.
fn relaxed_line(line: &[u8], sink: &mut Sink<'_, impl Output>) {
    let mut rest = line;
    while let Some(word_start) = rest.iter().position(|&byte| !is_wsp(byte)) {
        if word_start > 0 {
            sink.rewritten(b" ");
        }
        let word = &rest[word_start..];
        let word_end = word
            .iter()
            .position(|&byte| is_wsp(byte))
            .unwrap_or(word.len());
        sink.rewritten(&word[..word_end]);
        rest = &word[word_end..];
    }
}

/// Collects canonical bytes for an [`Output`] in as few writes as it can: unchanged input is
/// passed on as one stretch, however many lines it spans, and rewritten bytes are gathered in
/// a fixed buffer. Order is kept by flushing the one before the other is used.
struct Sink<'a, O: Output> {
    input: &'a [u8],
    output: &'a mut O,
    /// Input bytes that are canonical as they stand and not yet written.
    run: Range<usize>,
    buffer: [u8; 512],
    buffered: usize,
}

impl<'a, O: Output> Sink<'a, O> {
    fn new(input: &'a [u8], output: &'a mut O) -> Self {
        Self {
            input,
            output,
            run: 0..0,
            buffer: [0; 512],
            buffered: 0,
        }
    }

    /// Input bytes that canonicalisation leaves as they are.
    fn verbatim(&mut self, range: Range<usize>) {
        self.flush_buffer();
        if self.run.end == range.start && !self.run.is_empty() {
            self.run.end = range.end;
        } else {
            self.flush_run();
            self.run = range;
        }
    }

    /// Bytes that canonicalisation wrote anew.
    fn rewritten(&mut self, mut bytes: &[u8]) {
        self.flush_run();
        while !bytes.is_empty() {
            if self.buffered == self.buffer.len() {
                self.flush_buffer();
            }
            let take = bytes.len().min(self.buffer.len() - self.buffered);
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&bytes[..take]);
            self.buffered += take;
            bytes = &bytes[take..];
        }
    }

    fn flush_run(&mut self) {
        if !self.run.is_empty() {
            self.output.write(&self.input[self.run.clone()]);
        }
        self.run = 0..0;
    }

    fn flush_buffer(&mut self) {
        if self.buffered > 0 {
            self.output.write(&self.buffer[..self.buffered]);
        }
        self.buffered = 0;
    }

    fn finish(mut self) {
        self.flush_run();
        self.flush_buffer();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical body as RFC 6376 section 3.4 states it, line by line with copies: the
    /// reference the streaming form must match byte for byte.
    fn reference(canonicalization: Canonicalization, body: &[u8]) -> Vec<u8> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let at = rest.windows(2).position(|pair| pair == b"\r\n");
            let (line, next) = match at {
                Some(at) => (&rest[..at], &rest[at + 2..]),
                None => (rest, &rest[rest.len()..]),
            };
            lines.push(match canonicalization {
                Canonicalization::Simple => line.to_vec(),
                Canonicalization::Relaxed => {
                    let mut relaxed = Vec::new();
                    for (index, &byte) in line.iter().enumerate() {
                        let previous_wsp = index > 0 && is_wsp(line[index - 1]);
                        match (is_wsp(byte), previous_wsp) {
                            (false, _) => relaxed.push(byte),
                            (true, false) => relaxed.push(b' '),
                            (true, true) => {}
                        }
                    }
                    while relaxed.last() == Some(&b' ') {
                        relaxed.pop();
                    }
                    relaxed
                }
            });
            rest = next;
        }
        while lines.last().is_some_and(Vec::is_empty) {
            lines.pop();
        }
        if lines.is_empty() && canonicalization == Canonicalization::Simple {
            lines.push(Vec::new());
        }
        lines
            .into_iter()
            .flat_map(|line| [line, b"\r\n".to_vec()])
            .flatten()
            .collect()
    }

    /// The canonical bytes, and the hash at every `l=` from 0 to past the end.
    #[track_caller]
    fn check_body(canonicalization: Canonicalization, input: &[u8], expected: &[u8]) {
        let mut output = Vec::new();
        canonical_body(canonicalization, input, &mut output);
        assert_eq!(
            String::from_utf8_lossy(&output),
            String::from_utf8_lossy(expected)
        );
        let whole = body_hash(canonicalization, input, None);
        assert_eq!(whole.length, expected.len());
        let digest = aws_lc_rs::digest::digest(&SHA256, expected);
        assert_eq!(whole.digest.as_ref(), digest.as_ref());
        for limit in 0..expected.len() + 3 {
            let prefix = body_hash(canonicalization, input, Some(limit));
            let digest = aws_lc_rs::digest::digest(&SHA256, &expected[..limit.min(expected.len())]);
            assert_eq!(prefix.digest.as_ref(), digest.as_ref(), "l={limit}");
            assert_eq!(prefix.length, expected.len());
        }
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
        // A lone LF is content, so the empty lines before it are kept.
        check_body(Relaxed, b"\r\n \r\n\n", b"\r\n\r\n\n\r\n");
        // A CR before a line's CRLF is not white space, so it stays, and so does the space.
        check_body(Relaxed, b"x \r\r\n", b"x \r\r\n");
        check_body(Relaxed, b"x\t\r\r\n\r\n", b"x \r\r\n");
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

    /// Empty lines inside the body are written as they stand when they are bare CRLFs and
    /// anew when they held white space; both kinds, mixed, before content and at the end.
    #[test]
    fn held_back_empty_lines() {
        use Canonicalization::Relaxed;
        check_body(Relaxed, b"a\r\n\r\n\r\nb\r\n", b"a\r\n\r\n\r\nb\r\n");
        check_body(
            Relaxed,
            b"a\r\n\r\n \r\n\r\nb\r\n",
            b"a\r\n\r\n\r\n\r\nb\r\n",
        );
        check_body(
            Relaxed,
            b"a\r\n \r\n\r\nb  \r\nc\r\n\r\n",
            b"a\r\n\r\n\r\nb\r\nc\r\n",
        );
        check_body(Relaxed, b"a\r\n\t\r\n\r\n \t ", b"a\r\n");
    }

    /// A rewritten line longer than the sink's buffer, between unchanged lines.
    #[test]
    fn long_rewritten_lines_cross_the_buffer() {
        use Canonicalization::Relaxed;
        let long = "word  ".repeat(300);
        let input = format!("before\r\n{long}\r\nafter\r\n");
        let expected = format!("before\r\n{}\r\nafter\r\n", "word ".repeat(300).trim_end());
        check_body(Relaxed, input.as_bytes(), expected.as_bytes());
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

    /// Every body of up to seven bytes from letters, white space, CR and LF: CRLF split from
    /// its parts, lone CR and LF, white space before either, empty and white-space lines at
    /// the end and in between.
    #[test]
    fn every_short_body_matches_the_reference() {
        let alphabet = [b'a', b' ', b'\t', b'\r', b'\n'];
        let mut body = Vec::new();
        for length in 0..=7u32 {
            for mut code in 0..alphabet.len().pow(length) {
                body.clear();
                for _ in 0..length {
                    body.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                for canonicalization in [Canonicalization::Simple, Canonicalization::Relaxed] {
                    let mut output = Vec::new();
                    canonical_body(canonicalization, &body, &mut output);
                    assert_eq!(
                        output,
                        reference(canonicalization, &body),
                        "{canonicalization} {body:?}"
                    );
                }
            }
        }
    }
}
