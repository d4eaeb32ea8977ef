//! Input framing: line endings and mbox files that hold several messages.

use crate::limits;

/// The messages of an input: one, or several when it is an mbox (messages that open with a
/// `From ` line). A `From ` line counts as a separator only at the start or after a blank line,
/// and only when header fields follow it, so a quoted "From " sentence does not split a message.
pub fn split(input: &[u8]) -> Vec<Vec<u8>> {
    let text = normalise(input);
    let lines: Vec<&[u8]> = text.split_inclusive(|byte| *byte == b'\n').collect();
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut previous_blank = true;
    for (index, line) in lines.iter().enumerate() {
        let separator = previous_blank
            && line.starts_with(b"From ")
            && lines.get(index + 1).is_some_and(|next| is_field(next));
        if separator {
            if !is_blank(&current) && messages.len() + 1 < limits::MAX_MESSAGES {
                messages.push(std::mem::take(&mut current));
            }
            current.clear();
            previous_blank = false;
            continue;
        }
        previous_blank = line.iter().all(u8::is_ascii_whitespace);
        current.extend_from_slice(line);
    }
    if !is_blank(&current) {
        messages.push(current);
    }
    messages
}

/// CRLF and LF inputs alike become LF, which the readers of plain text expect.
fn normalise(input: &[u8]) -> Vec<u8> {
    let mut output = Vec::with_capacity(input.len());
    let mut bytes = input.iter().peekable();
    while let Some(byte) = bytes.next() {
        if *byte == b'\r' && bytes.peek() == Some(&&b'\n') {
            continue;
        }
        output.push(*byte);
    }
    output
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

fn is_field(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|byte| *byte == b':') else {
        return false;
    };
    colon > 0
        && line[..colon]
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_with_two_messages_and_a_quoted_from() {
        let input = b"From a@b Mon\r\nSubject: one\r\n\r\nFrom here on\r\n\r\nFrom c@d Tue\nSubject: two\n\nbody\n";
        let messages = split(input);
        assert_eq!(messages.len(), 2);
        assert!(messages[0].starts_with(b"Subject: one\n"));
        assert!(messages[1].starts_with(b"Subject: two\n"));
    }

    #[test]
    fn single_message_stays_whole() {
        assert_eq!(split(b"Subject: x\n\nbody\n").len(), 1);
        assert!(split(b"").is_empty());
    }
}
