//! Contacts and mailings, with each recipient's delivery state once sent.

use sealpost_domain::Contact;
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
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// The queued message once sent.
    pub message_id: Option<String>,
    /// Each recipient contact with its delivery state once sent (queued, sending, deferred
    /// with the next attempt time, sent, failed with the reason).
    pub recipients: Vec<MailingRecipientView>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailingRecipientView {
    pub contact: ContactView,
    /// Absent while the mailing is a draft.
    pub delivery: Option<RecipientView>,
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
                delivery: status.message.as_ref().and_then(|message| {
                    message
                        .recipients
                        .iter()
                        .find(|recipient| recipient.address.eq_ignore_ascii_case(&contact.email))
                        .map(RecipientView::from)
                }),
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
            created_at: mailing.created_at.0,
            sent_at: mailing.sent_at.map(|at| at.0),
            message_id: mailing.message_id.map(|id| id.to_string()),
            recipients,
        }
    }
}
