//! Contacts and mailings, with each recipient's delivery state once sent and one word for
//! all of them.

pub use sealpost_domain::MailingProgress;
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

/// A mailing's recipients together, in one word. A recipient whose message is gone (removed
/// from the store) tells nothing and is left out.
pub fn progress(status: &MailingStatus) -> MailingProgress {
    if status.mailing.message_id.is_none() && status.messages.is_empty() {
        return MailingProgress::Draft;
    }
    let states: Vec<RecipientState> = status
        .mailing
        .recipients
        .iter()
        .filter_map(|contact| status.delivery_to(contact))
        .map(|recipient| recipient.state)
        .collect();
    MailingProgress::of_sent(&states)
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
            status: progress(status).code(),
            delivered: delivered_count(status),
            created_at: mailing.created_at.0,
            sent_at: mailing.sent_at.map(|at| at.0),
            message_id: mailing.message_id.map(|id| id.to_string()),
            recipients,
        }
    }
}
