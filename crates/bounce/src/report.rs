//! What a received message turns out to be: nothing of ours, a delivery report, a complaint or
//! an automatic reply.

use crate::reason::Reason;
use crate::status::{Class, EnhancedStatus, ReplyCode};

/// The meaning of one received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// An ordinary message: no failure, complaint or automatic reply in it.
    NotABounce,
    /// A delivery status report: failures, delays or successes, one entry per recipient.
    Delivery(DeliveryReport),
    /// A feedback-loop complaint (ARF, RFC 5965, or a provider's own format).
    Complaint(Complaint),
    /// An automatic reply (RFC 3834), such as an out-of-office notice.
    AutoReply(AutoReply),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub recipients: Vec<Recipient>,
    pub original: OriginalMessage,
}

/// What a report says about one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The recipient address, when the report names it.
    pub address: Option<String>,
    /// The enhanced status code as written in the report.
    pub status: Option<EnhancedStatus>,
    pub reply_code: Option<ReplyCode>,
    /// Success, temporary or permanent: from the status, the reply code or the report's words.
    pub class: Class,
    /// The remote server's answer or the reporting server's explanation, unfolded.
    pub diagnostic: String,
    pub reporting_mta: Option<String>,
    pub remote_mta: Option<String>,
    pub action: Option<Action>,
    pub reason: Reason,
}

impl Recipient {
    /// Whether the address is dead (see `Reason::is_hard`).
    pub fn is_hard(&self) -> bool {
        self.reason.is_hard(self.class)
    }
}

/// The Action field of RFC 3464 section 2.3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
}

impl Action {
    pub fn parse(text: &str) -> Option<Self> {
        let word = text.split_whitespace().next()?.to_ascii_lowercase();
        match word.as_str() {
            "failed" | "failure" => Some(Self::Failed),
            "delayed" => Some(Self::Delayed),
            "delivered" | "deliverable" => Some(Self::Delivered),
            "relayed" => Some(Self::Relayed),
            "expanded" => Some(Self::Expanded),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Delayed => "delayed",
            Self::Delivered => "delivered",
            Self::Relayed => "relayed",
            Self::Expanded => "expanded",
        }
    }
}

/// The Feedback-Type of RFC 5965 section 3.1 (and the IANA registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackType {
    Abuse,
    AuthFailure,
    Fraud,
    NotSpam,
    OptOut,
    Virus,
    Other(String),
}

impl FeedbackType {
    pub fn parse(text: &str) -> Self {
        let word = text.trim().to_ascii_lowercase();
        match word.as_str() {
            "abuse" => Self::Abuse,
            "auth-failure" => Self::AuthFailure,
            "fraud" => Self::Fraud,
            "not-spam" => Self::NotSpam,
            "opt-out" | "opt-out-list" => Self::OptOut,
            "virus" => Self::Virus,
            _ => Self::Other(word),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Abuse => "abuse",
            Self::AuthFailure => "auth-failure",
            Self::Fraud => "fraud",
            Self::NotSpam => "not-spam",
            Self::OptOut => "opt-out",
            Self::Virus => "virus",
            Self::Other(other) => other,
        }
    }
}

/// A complaint about a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    pub feedback_type: FeedbackType,
    pub user_agent: Option<String>,
    /// The envelope sender of the original message (Original-Mail-From), without brackets.
    pub original_mail_from: Option<String>,
    /// The complaining recipients (Original-Rcpt-To, or the original's To when not given).
    pub original_rcpt_to: Vec<String>,
    pub source_ip: Option<String>,
    pub arrival_date: Option<String>,
    pub reporting_mta: Option<String>,
    pub original: OriginalMessage,
}

/// An automatic reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoReply {
    /// The address that replied.
    pub from: Option<String>,
    pub subject: Option<String>,
    pub original: OriginalMessage,
}

/// What a report quotes of the message it is about: its identifiers and header fields, for
/// matching it with what was sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginalMessage {
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub subject: Option<String>,
    /// The header fields, names as written, values unfolded.
    pub headers: Vec<(String, String)>,
}
