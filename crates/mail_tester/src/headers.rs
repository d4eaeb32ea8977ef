//! The header fields every message needs (RFC 5322 section 3.6): exactly one From with one
//! author, Date, Message-ID, To and a Subject that says something, none of them twice.

use sealpost_dkim::{AddressError, ParsedMessage, from_mailbox};

use crate::rules::{
    DATE_INVALID, DATE_MISSING, FROM_INVALID, FROM_MISSING, HEADER_DUPLICATE, MESSAGE_ID_MISSING,
    MESSAGE_UNREADABLE, SUBJECT_MISSING, TO_MISSING,
};
use crate::{Findings, Status};

/// Fields RFC 5322 allows at most once.
const AT_MOST_ONCE: [&str; 5] = ["Date", "Message-ID", "Subject", "To", "Reply-To"];

/// Checks the header of `message` (CRLF) and returns the author's domain, which DMARC needs.
pub(crate) fn check(message: &[u8], findings: &mut Findings) -> Option<String> {
    let parsed = match ParsedMessage::parse(message) {
        Ok(parsed) => parsed,
        Err(error) => {
            findings.problem(
                MESSAGE_UNREADABLE,
                format!("The message cannot be read: {error}."),
                "Send a complete RFC 5322 message: header fields, an empty line, then the body; \
                 build it with a mail library rather than by hand.",
            );
            findings.check("headers", Status::Fail, error.to_string());
            return None;
        }
    };
    let before = findings.problems.len();
    let author = author(&parsed, findings);
    check_date(&parsed, findings);
    if !parsed.has("Message-ID") {
        findings.problem(
            MESSAGE_ID_MISSING,
            "The message has no Message-ID header.",
            "Add a Message-ID such as <unique-id@your-domain> to every message; Sealpost adds \
             one to mail submitted through it, so this message bypassed Sealpost or its \
             settings.",
        );
    }
    if !parsed.has("To") {
        findings.problem(
            TO_MISSING,
            "The message has no To header.",
            "Put the recipient in a To header instead of sending with Bcc only.",
        );
    }
    let subject = parsed
        .fields("Subject")
        .next()
        .map(|field| field.unfolded_value());
    if subject
        .as_deref()
        .is_none_or(|subject| subject.trim().is_empty())
    {
        findings.problem(
            SUBJECT_MISSING,
            match subject {
                Some(_) => "The Subject header is empty.",
                None => "The message has no Subject header.",
            },
            "Give every message a Subject that says what it is about.",
        );
    }
    for name in AT_MOST_ONCE {
        let count = parsed.fields(name).count();
        if count > 1 {
            findings.problem(
                HEADER_DUPLICATE,
                format!("The message has {count} {name} headers."),
                format!(
                    "Send exactly one {name} header; remove the others where the message is built."
                ),
            );
        }
    }
    let status = match findings.problems[before..].is_empty() {
        true => Status::Pass,
        false => Status::Fail,
    };
    findings.check(
        "headers",
        status,
        format!("{} header fields", parsed.headers.len()),
    );
    author
}

/// The one author's domain, or the problem that there is none.
fn author(parsed: &ParsedMessage<'_>, findings: &mut Findings) -> Option<String> {
    match from_mailbox(parsed) {
        Ok(mailbox) => Some(mailbox.domain.as_str().to_owned()),
        Err(AddressError::NoFrom) => {
            findings.problem(
                FROM_MISSING,
                "The message has no From header.",
                "Add a From header with the one address the mail comes from, in a domain you \
                 have set up as a signing domain.",
            );
            None
        }
        Err(error) => {
            findings.problem(
                FROM_INVALID,
                format!("The From header is not usable: {error}."),
                "Send exactly one From header holding exactly one valid address, in a domain \
                 you have set up as a signing domain.",
            );
            None
        }
    }
}

fn check_date(parsed: &ParsedMessage<'_>, findings: &mut Findings) {
    let Some(field) = parsed.fields("Date").next() else {
        findings.problem(
            DATE_MISSING,
            "The message has no Date header.",
            "Add a Date header with the time of sending (RFC 5322 format, such as \"Sat, 28 Nov \
             2026 06:30:00 +0000\"); Sealpost adds one to mail submitted through it.",
        );
        return;
    };
    let value = field.unfolded_value();
    // mail-parser reads every date form RFC 5322 and its obsolete syntax allow.
    let header = format!("Date: {}\r\n\r\n", value.trim());
    let readable = mail_parser::MessageParser::new()
        .parse_headers(header.as_bytes())
        .is_some_and(|message| message.date().is_some());
    if !readable {
        findings.problem(
            DATE_INVALID,
            format!("The Date header \"{}\" is not a valid date.", value.trim()),
            "Write the Date in RFC 5322 format, such as \"Sat, 28 Nov 2026 06:30:00 +0000\".",
        );
    }
}
