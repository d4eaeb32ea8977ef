//! Reading what comes back after delivery: delivery status notifications (RFC 3464) and the
//! home-grown bounce formats of real MTAs, feedback-loop complaints (ARF, RFC 5965), automatic
//! replies (RFC 3834) and success notifications. Sans-IO: bytes in, a `Report` out, no clock.
//!
//! Each recipient gets a reason in the vocabulary of the sisimai bounce classifier, decided in
//! one table (`classify`), and a hard or soft verdict that follows the reason.

pub mod classify;
pub mod limits;
pub mod reason;
pub mod report;
pub mod status;

mod autoreply;
mod complaint;
mod delivery;
mod dsn;
mod fields;
mod finding;
mod mailbox;
mod mime;
mod plain;
mod provider;

pub use reason::Reason;
pub use report::{
    Action, AutoReply, Complaint, DeliveryReport, FeedbackType, OriginalMessage, Recipient, Report,
};
pub use status::{Class, EnhancedStatus, ReplyCode};

/// Why an input could not be read as a message at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the input is empty")]
    Empty,
    #[error("the input is {size} bytes, more than the {limit} a report may be")]
    TooLarge { size: usize, limit: usize },
}

/// Reads one received message. An input that is a message but no report of any kind is
/// `Report::NotABounce`, not an error.
pub fn parse(input: &[u8]) -> Result<Report, ParseError> {
    let mut reports = parse_mailbox(input)?;
    match reports.len() {
        0 => Err(ParseError::Empty),
        _ => Ok(reports.swap_remove(0)),
    }
}

/// Reads every message of an input that may be an mbox file (several messages, each opening
/// with a `From ` line); a plain message gives one report.
pub fn parse_mailbox(input: &[u8]) -> Result<Vec<Report>, ParseError> {
    if input.len() > limits::MAX_INPUT_BYTES {
        return Err(ParseError::TooLarge {
            size: input.len(),
            limit: limits::MAX_INPUT_BYTES,
        });
    }
    let messages = mailbox::split(input);
    if messages.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(messages.iter().map(|message| read(message)).collect())
}

fn read(message: &[u8]) -> Report {
    let Some(sections) = mime::sections(message) else {
        return Report::NotABounce;
    };
    if let Some(complaint) = complaint::complaint(&sections) {
        return Report::Complaint(complaint);
    }
    if let Some(report) = delivery::delivery(&sections) {
        return Report::Delivery(report);
    }
    if let Some(reply) = autoreply::auto_reply(&sections) {
        return Report::AutoReply(reply);
    }
    Report::NotABounce
}
