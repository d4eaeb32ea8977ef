//! Contacts and mailings (SPEC S6): what a tenant administrator composes in the UI or the API
//! before it becomes a queued message.

use crate::{ContactId, MailingId, MessageId, TenantId, Timestamp};

/// A name and an address in the tenant's address book; the address is unique per tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    pub tenant_id: TenantId,
    pub name: String,
    pub email: String,
    pub created_at: Timestamp,
}

/// A mailing as composed. It is sent at most once: sending records the queued message, and the
/// per-recipient delivery state is that message's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailing {
    pub id: MailingId,
    pub tenant_id: TenantId,
    pub sender: Contact,
    pub recipients: Vec<Contact>,
    pub subject: String,
    pub body: String,
    /// The queued message once the mailing was sent.
    pub message_id: Option<MessageId>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
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
    pub const ALL: [Self; 5] = [
        Self::Draft,
        Self::InProgress,
        Self::Delivered,
        Self::PartlyDelivered,
        Self::Failed,
    ];

    /// Summarises the states of a sent mailing's recipients. The store's list filter states
    /// the same rule in SQL; a test of the store holds the two together.
    pub fn of_sent(states: &[crate::RecipientState]) -> Self {
        if states.iter().any(|state| !state.is_final()) {
            return Self::InProgress;
        }
        let delivered = states
            .iter()
            .filter(|state| **state == crate::RecipientState::Sent)
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

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|progress| progress.code() == code)
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

#[cfg(test)]
mod tests {
    use super::MailingProgress;
    use crate::RecipientState::*;

    #[track_caller]
    fn check(states: &[crate::RecipientState], expect: &str) {
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
        for progress in MailingProgress::ALL {
            assert_eq!(MailingProgress::parse(progress.code()), Some(progress));
        }
        assert_eq!(MailingProgress::parse("sent"), None);
    }
}
