//! Sealpost's vocabulary: tenants, signing domains, DKIM keys as stored facts, and the DNS record a
//! tenant must publish. Pure data and validation; no I/O, no serialisation formats, no SQL.

mod checker;
mod delivery;
mod dns_record;
mod ids;
mod mailing;
mod message;
mod names;
mod signing_decision;
mod signing_domain;
mod tenant;
mod user;

pub use checker::{CheckerAddress, CheckerReportRecord};
pub use delivery::{DeliveryMode, RelaySettings, TlsMode};
pub use dns_record::{DkimDnsRecord, dkim_txt_value, split_txt_value};
pub use ids::{
    ApiKeyId, CheckerReportId, ContactId, KeyId, MailingId, MessageId, RecipientId,
    SigningDomainId, TenantId, UserId,
};
pub use mailing::{Contact, Mailing};
pub use message::{MessageSummary, QueuedMessage, Recipient, RecipientState, Route, SigningRecord};
pub use names::{DomainName, NameError, Selector};
pub use signing_decision::{SigningDecision, UnsignedReason, decide as decide_signing};
pub use signing_domain::{
    HashAlgorithm, KeyOrigin, NewSigningDomain, REQUIRED_KEY_BITS, SealedKey, SigningDomain,
    SigningDomainUpdate, SigningKey,
};
pub use tenant::{Tenant, TenantName};
pub use user::{Email, User, UserRole};

/// A point in time as whole seconds since the Unix epoch (UTC). Callers pass it in; nothing in
/// Sealpost's libraries reads the clock by itself, so tests control time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);
