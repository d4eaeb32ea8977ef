//! Contacts and mailings, with each recipient's delivery state once sent and one word for
//! all of them.

use sealpost_domain::{Contact, RecipientState};
use sealpost_service::MailingStatus;
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::messages::RecipientView;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactView {
    pub id: String,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailingView {
    pub id: String,
    pub sender: ContactView,
    pub subject: String,
    pub body: String,
    /// draft (not sent yet) or sent.
    pub state: &'static str,
    /// The recipients together: draft, in_progress (some still on their way), delivered (to
    /// all), partly_delivered (to some, the others failed) or failed (to none).
    pub status: &'static str,
    /// How many recipients the mailing was delivered to so far.
    pub delivered: usize,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// The first recipient's queued message once sent. Each recipient has a message of its
    /// own, with only that recipient in `To:`: see `recipients`.
    pub message_id: Option<String>,
    /// Each recipient contact with its delivery state once sent (queued, sending, deferred
    /// with the next attempt time, sent, failed with the reason).
    pub recipients: Vec<MailingRecipientView>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailingRecipientView {
    pub contact: ContactView,
    /// The queued message that went to this contact alone; absent while the mailing is a
    /// draft.
    pub message_id: Option<String>,
    /// Absent while the mailing is a draft.
    pub delivery: Option<RecipientView>,
}

/// A mailing's recipients together, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailingProgress {
    Draft,
    /// Some recipients are still queued, being sent or waiting for another attempt.
    InProgress,
    Delivered,
    /// Every recipient reached its end, and some but not all were delivered to.
    PartlyDelivered,
    Failed,
}

impl MailingProgress {
    /// Summarises the recipients' states. A recipient whose message is gone (removed from the
    /// store) tells nothing and is left out.
    pub fn of(status: &MailingStatus) -> Self {
        if status.mailing.message_id.is_none() && status.messages.is_empty() {
            return Self::Draft;
        }
        let states: Vec<RecipientState> = status
            .mailing
            .recipients
            .iter()
            .filter_map(|contact| status.delivery_to(contact))
            .map(|recipient| recipient.state)
            .collect();
        Self::of_sent(&states)
    }

    /// Summarises the states of a sent mailing's recipients.
    fn of_sent(states: &[RecipientState]) -> Self {
        if states.iter().any(|state| !state.is_final()) {
            return Self::InProgress;
        }
        let delivered = states
            .iter()
            .filter(|state| **state == RecipientState::Sent)
            .count();
        match delivered {
            0 => Self::Failed,
            all if all == states.len() => Self::Delivered,
            _ => Self::PartlyDelivered,
        }
    }

    /// The API's code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InProgress => "in_progress",
            Self::Delivered => "delivered",
            Self::PartlyDelivered => "partly_delivered",
            Self::Failed => "failed",
        }
    }

    /// The words a page shows.
    pub fn words(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InProgress => "in progress",
            Self::Delivered => "delivered",
            Self::PartlyDelivered => "partly delivered",
            Self::Failed => "failed",
        }
    }
}

/// How many recipients of the mailing were delivered to.
pub fn delivered_count(status: &MailingStatus) -> usize {
    status
        .mailing
        .recipients
        .iter()
        .filter_map(|contact| status.delivery_to(contact))
        .filter(|recipient| recipient.state == RecipientState::Sent)
        .count()
}

impl From<&Contact> for ContactView {
    fn from(contact: &Contact) -> Self {
        Self {
            id: contact.id.to_string(),
            name: contact.name.clone(),
            email: contact.email.clone(),
        }
    }
}

impl From<&MailingStatus> for MailingView {
    fn from(status: &MailingStatus) -> Self {
        let mailing = &status.mailing;
        let recipients = mailing
            .recipients
            .iter()
            .map(|contact| MailingRecipientView {
                contact: contact.into(),
                message_id: status
                    .message_to(contact)
                    .map(|message| message.id.to_string()),
                delivery: status.delivery_to(contact).map(RecipientView::from),
            })
            .collect();
        Self {
            id: mailing.id.to_string(),
            sender: (&mailing.sender).into(),
            subject: mailing.subject.clone(),
            body: mailing.body.clone(),
            state: if mailing.message_id.is_some() {
                "sent"
            } else {
                "draft"
            },
            status: MailingProgress::of(status).code(),
            delivered: delivered_count(status),
            created_at: mailing.created_at.0,
            sent_at: mailing.sent_at.map(|at| at.0),
            message_id: mailing.message_id.map(|id| id.to_string()),
            recipients,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RecipientState::*;

    #[track_caller]
    fn check(states: &[RecipientState], expect: &str) {
        assert_eq!(MailingProgress::of_sent(states).words(), expect);
    }

    #[test]
    fn a_sent_mailing_is_summarised_in_one_word() {
        check(&[Sent, Sent, Sent], "delivered");
        check(&[Sent, Failed, Expired], "partly delivered");
        check(&[Cancelled, Sent], "partly delivered");
        check(&[Failed, Expired, Cancelled], "failed");
        check(&[Sent, Failed, Deferred], "in progress");
        check(&[Queued], "in progress");
        check(&[Sending, Sent], "in progress");
    }
}
