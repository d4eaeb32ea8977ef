//! Making a message complete before it is signed (SPEC S4.3): CRLF line endings, a blank line
//! after the header, and `Date`, `Message-ID` and `MIME-Version` when the message lacks them.
//! Nothing is added after signing, so nothing can break the signature later.

use sealpost_domain::{DomainName, Timestamp};

use crate::message::{MessageError, ParsedMessage, normalize_line_endings};

/// A message ready to sign, and the header fields that had to be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub message: Vec<u8>,
    pub added: Vec<&'static str>,
}

/// Room left after a prepared message for the `DKIM-Signature` field that signing puts in
/// front of it (about 600 bytes with a 2048-bit key, 950 with a 4096-bit one), so that
/// [`crate::Signer::sign_owned`] moves the message within its own buffer instead of copying it
/// into a second one.
pub(crate) const SIGNATURE_ROOM: usize = 1024;

/// Completes `raw`. `now` dates the message; `message_id_domain` is the right-hand side of a
/// generated Message-ID (the sender's domain, so the ID does not reveal the platform).
///
/// The result is written in one pass into a buffer with [`SIGNATURE_ROOM`] to spare: mail in
/// CRLF form (all mail that came over SMTP) is copied once, header, added fields and body.
pub fn prepare(
    raw: &[u8],
    now: Timestamp,
    message_id_domain: &DomainName,
) -> Result<Prepared, MessageError> {
    let raw = normalize_line_endings(raw);
    let raw = &*raw;
    let parsed = ParsedMessage::parse(raw)?;
    let (fields, added) = missing_fields(&parsed, now, message_id_domain);
    let header_end = parsed.header_end;
    let mut message = Vec::with_capacity(raw.len() + fields.len() + 4 + SIGNATURE_ROOM);
    if raw[..header_end].ends_with(b"\r\n\r\n") {
        // Added fields go at the end of the header, just before the blank line.
        message.extend_from_slice(&raw[..header_end - 2]);
        message.extend_from_slice(fields.as_bytes());
        message.extend_from_slice(&raw[header_end - 2..]);
    } else {
        // The header ran to the end of the input: finish its last line, then open an empty body.
        message.extend_from_slice(raw);
        if !raw.ends_with(b"\r\n") {
            message.extend_from_slice(b"\r\n");
        }
        message.extend_from_slice(fields.as_bytes());
        message.extend_from_slice(b"\r\n");
    }
    Ok(Prepared { message, added })
}

/// The `Date`, `Message-ID` and `MIME-Version` fields the message lacks, each ending in CRLF,
/// and their names.
fn missing_fields(
    parsed: &ParsedMessage<'_>,
    now: Timestamp,
    message_id_domain: &DomainName,
) -> (String, Vec<&'static str>) {
    let mut fields = String::new();
    let mut added = Vec::new();
    if !parsed.has("Date") {
        fields.push_str(&format!("Date: {}\r\n", rfc5322_date(now)));
        added.push("Date");
    }
    if !parsed.has("Message-ID") {
        fields.push_str(&format!(
            "Message-ID: <{}@{}>\r\n",
            random_id(),
            message_id_domain.as_str()
        ));
        added.push("Message-ID");
    }
    if !parsed.has("MIME-Version") {
        fields.push_str("MIME-Version: 1.0\r\n");
        added.push("MIME-Version");
    }
    (fields, added)
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator works");
    hex::encode(bytes)
}

/// A date in the form RFC 5322 section 3.3 prefers, in UTC: `Sat, 28 Nov 2026 04:35:53 +0000`.
pub fn rfc5322_date(time: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let civil = time.civil();
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[civil.weekday as usize],
        civil.day,
        MONTHS[(civil.month - 1) as usize],
        civil.year,
        civil.hour,
        civil.minute,
        civil.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            rfc5322_date(Timestamp(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000"
        );
        assert_eq!(
            rfc5322_date(Timestamp(1_795_840_553)),
            "Sat, 28 Nov 2026 04:35:53 +0000"
        );
        assert_eq!(
            rfc5322_date(Timestamp(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 +0000"
        );
    }

    fn domain() -> DomainName {
        DomainName::parse("client.example").unwrap()
    }

    #[test]
    fn adds_missing_fields_before_the_body() {
        let prepared =
            prepare(b"From: a@client.example\n\nbody\n", Timestamp(0), &domain()).unwrap();
        assert_eq!(prepared.added, ["Date", "Message-ID", "MIME-Version"]);
        let text = String::from_utf8(prepared.message).unwrap();
        assert!(text.starts_with("From: a@client.example\r\nDate: Thu, 01 Jan 1970"));
        assert!(text.contains("\r\nMessage-ID: <"));
        assert!(text.contains("@client.example>\r\nMIME-Version: 1.0\r\n\r\nbody\r\n"));
    }

    #[test]
    fn keeps_complete_messages_as_they_are() {
        let complete = b"From: a@client.example\r\nDate: x\r\nMessage-ID: <1@x>\r\nMIME-Version: 1.0\r\n\r\nbody";
        let prepared = prepare(complete, Timestamp(0), &domain()).unwrap();
        assert!(prepared.added.is_empty());
        assert_eq!(prepared.message, complete);
    }

    #[test]
    fn header_only_messages_get_a_body_separator() {
        let prepared = prepare(
            b"From: a@client.example\r\nDate: x\r\nMessage-ID: <1@x>",
            Timestamp(0),
            &domain(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(prepared.message).unwrap(),
            "From: a@client.example\r\nDate: x\r\nMessage-ID: <1@x>\r\nMIME-Version: 1.0\r\n\r\n"
        );
    }
}
