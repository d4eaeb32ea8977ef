//! Receives message content after `354`: smtp-proto finds the end and un-stuffs dots, this
//! module bounds the size.

use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver};

/// The content of one DATA transfer once its terminating `.` line was seen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// The message as the client meant it: dots un-stuffed, the final CRLF before the `.` line
    /// kept, nothing else changed.
    Message(Vec<u8>),
    /// The content went past the size limit and was read and thrown away.
    TooLarge,
}

/// Collects message content until the end of data, switching to discarding once the content
/// is larger than allowed so that an oversized message costs no more memory than the limit.
pub(crate) struct MessageReceiver {
    mode: Mode,
    content: Vec<u8>,
    max_size: usize,
}

enum Mode {
    Keeping(DataReceiver),
    Discarding(DummyDataReceiver),
}

impl MessageReceiver {
    pub(crate) fn new(max_size: usize) -> Self {
        let mut receiver = DataReceiver::new();
        // smtp-proto recognises a `.` only after a CRLF it has seen, but the content starts at
        // the beginning of a line (right after the DATA command's CRLF). Feeding it that CRLF
        // first lets it see an empty message (`.` alone) and un-stuff a first line that starts
        // with a dot; the CRLF itself lands in a scratch buffer and is dropped.
        let mut scratch = Vec::with_capacity(2);
        receiver.ingest(&mut b"\r\n".iter(), &mut scratch);
        Self {
            mode: Mode::Keeping(receiver),
            content: Vec::new(),
            max_size,
        }
    }

    /// Takes bytes from `bytes` and returns how many were consumed; `Some` once the end of
    /// data was reached (the rest of `bytes` then belongs to the next commands), `None` when
    /// everything was consumed and more is needed.
    pub(crate) fn ingest(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut iter = bytes.iter();
        let finished = match &mut self.mode {
            Mode::Keeping(receiver) => {
                let finished = receiver.ingest(&mut iter, &mut self.content);
                if self.content.len() > self.max_size {
                    self.mode = Mode::Discarding(DummyDataReceiver::new_data(receiver));
                    self.content = Vec::new();
                }
                finished
            }
            Mode::Discarding(receiver) => receiver.ingest(&mut iter),
        };
        finished.then(|| bytes.len() - iter.len())
    }

    pub(crate) fn finish(self) -> Received {
        match self.mode {
            Mode::Keeping(_) => Received::Message(self.content),
            Mode::Discarding(_) => Received::TooLarge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MessageReceiver, Received};

    /// Feeds `chunks` one by one and returns what was received and the bytes left over.
    fn receive(chunks: &[&str], max_size: usize) -> (Received, String) {
        let mut receiver = MessageReceiver::new(max_size);
        for (index, chunk) in chunks.iter().enumerate() {
            if let Some(consumed) = receiver.ingest(chunk.as_bytes()) {
                let mut rest = chunk[consumed..].to_owned();
                rest.extend(chunks[index + 1..].iter().copied());
                return (receiver.finish(), rest);
            }
        }
        panic!("no end of data in {chunks:?}");
    }

    fn message(text: &str) -> Received {
        Received::Message(text.as_bytes().to_vec())
    }

    #[test]
    fn end_of_data_and_unstuffing() {
        assert_eq!(
            receive(&["Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n"], 100),
            (message("Subject: x\r\n\r\nbody\r\n"), "QUIT\r\n".to_owned())
        );
        assert_eq!(receive(&[".\r\n"], 100), (message(""), String::new()));
        assert_eq!(
            receive(&["..first\r\n", "a\r\n..", ".two\r", "\n.", "\r\n"], 100),
            (message(".first\r\na\r\n..two\r\n"), String::new())
        );
        assert_eq!(
            receive(&["a.\r\n. b\r\n.\r\n"], 100),
            (message("a.\r\n b\r\n"), String::new())
        );
    }

    #[test]
    fn oversized_content_is_discarded_to_the_end() {
        assert_eq!(
            receive(&["0123456789\r\n", "0123456789\r\n", ".\r\nRSET\r\n"], 15),
            (Received::TooLarge, "RSET\r\n".to_owned())
        );
        assert_eq!(
            receive(&["0123456789\r\n.\r\n"], 12),
            (message("0123456789\r\n"), String::new())
        );
    }
}
