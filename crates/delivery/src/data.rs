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
    let mut index = 0;
    while index < message.len() {
        match (message[index], message.get(index + 1)) {
            (b'\r', Some(b'\n')) => index += 2,
            (b'\r' | b'\n', _) => return Err(MessageError::BareLineEnding(index)),
            _ => index += 1,
        }
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
    let mut wire = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut at_line_start = true;
    for &byte in message {
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

    #[test]
    fn eight_bit() {
        assert!(!is_eight_bit(b"plain ascii\r\n"));
        assert!(is_eight_bit("Gr\u{fc}\u{df}e\r\n".as_bytes()));
    }
}
