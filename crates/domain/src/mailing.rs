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
