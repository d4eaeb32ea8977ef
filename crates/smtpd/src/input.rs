//! Splits the bytes a client sends into command lines, bounding how long a line may grow.

/// What [`InputBuffer::next_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A whole line, CRLF (or a bare LF) included, as smtp-proto's parser expects it.
    Complete(Vec<u8>),
    /// A line longer than the limit; its bytes are dropped up to and including its end.
    TooLong,
}

/// Bytes received but not yet consumed, kept across reads so that pipelined commands and the
/// start of message content that arrive in one read are all seen.
#[derive(Debug, Default)]
pub(crate) struct InputBuffer {
    bytes: Vec<u8>,
    /// Set after a too-long line was reported but its end has not arrived yet.
    discarding: bool,
}

impl InputBuffer {
    pub(crate) fn extend(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }

    /// Returns the next line if one is complete, `TooLong` once for a line that exceeds
    /// `max_length` bytes, or `None` when more input is needed.
    pub(crate) fn next_line(&mut self, max_length: usize) -> Option<Line> {
        if self.discarding {
            let end = self.bytes.iter().position(|&byte| byte == b'\n');
            let Some(end) = end else {
                self.bytes.clear();
                return None;
            };
            self.bytes.drain(..=end);
            self.discarding = false;
        }
        match self.bytes.iter().position(|&byte| byte == b'\n') {
            Some(end) if end < max_length => {
                Some(Line::Complete(self.bytes.drain(..=end).collect()))
            }
            Some(end) => {
                self.bytes.drain(..=end);
                Some(Line::TooLong)
            }
            None if self.bytes.len() >= max_length => {
                self.bytes.clear();
                self.discarding = true;
                Some(Line::TooLong)
            }
            None => None,
        }
    }

    /// The bytes not yet consumed, for the message reader that takes over after DATA.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn consume(&mut self, count: usize) {
        self.bytes.drain(..count.min(self.bytes.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::{InputBuffer, Line};

    fn lines(chunks: &[&str], max_length: usize) -> Vec<Line> {
        let mut buffer = InputBuffer::default();
        let mut found = Vec::new();
        for chunk in chunks {
            buffer.extend(chunk.as_bytes());
            while let Some(line) = buffer.next_line(max_length) {
                found.push(line);
            }
        }
        found
    }

    fn complete(line: &str) -> Line {
        Line::Complete(line.as_bytes().to_vec())
    }

    #[test]
    fn pipelined_and_split_lines() {
        assert_eq!(
            lines(
                &["MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDA", "TA\r\n"],
                100
            ),
            vec![
                complete("MAIL FROM:<a@b.c>\r\n"),
                complete("RCPT TO:<d@e.f>\r\n"),
                complete("DATA\r\n"),
            ]
        );
    }

    #[test]
    fn a_long_line_is_reported_once_and_skipped() {
        assert_eq!(
            lines(&["NOOP 123456789", "0123456789", "0123\r\nQUIT\r\n"], 10),
            vec![Line::TooLong, complete("QUIT\r\n")]
        );
        assert_eq!(
            lines(&["NOOP 1234\r\nQUIT\r\n"], 10),
            vec![Line::TooLong, complete("QUIT\r\n")]
        );
        assert_eq!(lines(&["NOOP 123\r\n"], 10), vec![complete("NOOP 123\r\n")]);
    }
}
