//! The message as it goes after DATA (RFC 5321 section 4.5.2): dot-stuffed on the wire only, so
//! that the signed bytes reach the receiver unchanged once it removes the added dots.

/// Why a message cannot be sent as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A CR or LF outside a CRLF pair. SMTP has no way to carry it unchanged, and receivers
    /// disagree on where such a line ends, which is what SMTP smuggling exploits; Sealpost makes
    /// line endings CRLF before signing, so this is a bug upstream and is refused, not repaired.
    #[error("the message has a bare CR or LF at byte {0}; line endings must be CRLF")]
    BareLineEnding(usize),
}

/// Checks that every CR and LF in `message` belongs to a CRLF pair.
///
/// # Errors
/// [`MessageError::BareLineEnding`] with the offset of the first offending byte.
pub(crate) fn check_line_endings(message: &[u8]) -> Result<(), MessageError> {
    // Only the CRs and LFs need looking at: the search skips the text between them a vector
    // register at a time.
    let mut from = 0;
    while let Some(found) = memchr::memchr2(b'\r', b'\n', &message[from..]) {
        let index = from + found;
        if message[index] == b'\n' || message.get(index + 1) != Some(&b'\n') {
            return Err(MessageError::BareLineEnding(index));
        }
        from = index + 2;
    }
    Ok(())
}

/// Whether the message has bytes above 127, so that MAIL FROM should declare BODY=8BITMIME.
pub(crate) fn is_eight_bit(message: &[u8]) -> bool {
    !message.is_ascii()
}

/// The bytes to send after the 354 reply: `message` with a dot added at the start of every line
/// that starts with one, a CRLF added when the message does not end with one (the end-of-data
/// sequence must begin on a line of its own), and the final `.` line. `message` must have CRLF
/// line endings only ([`check_line_endings`]).
pub(crate) fn dot_stuff(message: &[u8]) -> Vec<u8> {
    // Room for a dot on one line in 64, as mail's text rarely has more, and the final line.
    let mut wire = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    // The text is copied a run at a time, each run ending just before a line that starts with a
    // dot, where the added dot goes.
    let mut run_start = 0;
    if message.first() == Some(&b'.') {
        wire.push(b'.');
    }
    for newline in memchr::memchr_iter(b'\n', message) {
        if message.get(newline + 1) == Some(&b'.') {
            wire.extend_from_slice(&message[run_start..=newline]);
            wire.push(b'.');
            run_start = newline + 1;
        }
    }
    wire.extend_from_slice(&message[run_start..]);
    if !message.is_empty() && !message.ends_with(b"\r\n") {
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b".\r\n");
    wire
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(message: &str, wire: &str) {
        assert_eq!(
            String::from_utf8(dot_stuff(message.as_bytes())).unwrap(),
            wire
        );
    }

    #[test]
    fn dots_are_stuffed_at_line_starts_only() {
        check("a\r\nb\r\n", "a\r\nb\r\n.\r\n");
        check(".a\r\n", "..a\r\n.\r\n");
        check(
            "a\r\n.\r\n..b\r\nc.d\r\n",
            "a\r\n..\r\n...b\r\nc.d\r\n.\r\n",
        );
        check("a\r\n.", "a\r\n..\r\n.\r\n");
        check("no end", "no end\r\n.\r\n");
        check("", ".\r\n");
    }

    #[test]
    fn line_endings() {
        assert_eq!(check_line_endings(b"a\r\nb\r\n"), Ok(()));
        assert_eq!(check_line_endings(b"no end"), Ok(()));
        assert_eq!(
            check_line_endings(b"a\r\nb\n.\r\n"),
            Err(MessageError::BareLineEnding(4))
        );
        assert_eq!(
            check_line_endings(b"a\rb"),
            Err(MessageError::BareLineEnding(1))
        );
        assert_eq!(
            check_line_endings(b"a\r"),
            Err(MessageError::BareLineEnding(1))
        );
    }

    /// Every string of up to seven bytes of `a`, `.`, CR and LF.
    fn short_strings() -> impl Iterator<Item = Vec<u8>> {
        (0..=7u32).flat_map(|length| {
            (0..4usize.pow(length)).map(move |mut number| {
                (0..length)
                    .map(|_| {
                        let byte = [b'a', b'.', b'\r', b'\n'][number % 4];
                        number /= 4;
                        byte
                    })
                    .collect()
            })
        })
    }

    /// The searches agree with the byte-at-a-time reading of the same rules on every short
    /// string, dots and line ends in every position included.
    #[test]
    fn searches_agree_with_reading_byte_by_byte() {
        for message in short_strings() {
            let mut bare = None;
            let mut index = 0;
            while index < message.len() && bare.is_none() {
                match (message[index], message.get(index + 1)) {
                    (b'\r', Some(b'\n')) => index += 2,
                    (b'\r' | b'\n', _) => bare = Some(index),
                    _ => index += 1,
                }
            }
            let expected = bare.map_or(Ok(()), |index| Err(MessageError::BareLineEnding(index)));
            assert_eq!(check_line_endings(&message), expected, "{message:?}");
            if expected.is_err() {
                continue;
            }
            let mut wire = Vec::new();
            let mut at_line_start = true;
            for &byte in &message {
                if at_line_start && byte == b'.' {
                    wire.push(b'.');
                }
                wire.push(byte);
                at_line_start = byte == b'\n';
            }
            if !message.is_empty() && !message.ends_with(b"\r\n") {
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b".\r\n");
            assert_eq!(dot_stuff(&message), wire, "{message:?}");
        }
    }

    #[test]
    fn eight_bit() {
        assert!(!is_eight_bit(b"plain ascii\r\n"));
        assert!(is_eight_bit("Gr\u{fc}\u{df}e\r\n".as_bytes()));
    }
}
