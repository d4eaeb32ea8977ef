//! The `REPORT` request as bytes.

/// The request asking spamd to check `message` and answer with its report.
///
/// `Content-length` is always sent: spamd then reads exactly that many bytes instead of waiting
/// for the end of the stream, and answers a mismatch with a clear EX_PROTOCOL status.
pub(crate) fn encode_report_request(message: &[u8]) -> Vec<u8> {
    let head = format!(
        "REPORT SPAMC/1.5\r\nContent-length: {}\r\n\r\n",
        message.len()
    );
    let mut request = Vec::with_capacity(head.len() + message.len());
    request.extend_from_slice(head.as_bytes());
    request.extend_from_slice(message);
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_carries_command_and_length() {
        assert_eq!(
            encode_report_request(b"Subject: x\r\n\r\nhi\r\n"),
            b"REPORT SPAMC/1.5\r\nContent-length: 18\r\n\r\nSubject: x\r\n\r\nhi\r\n"
        );
    }
}
