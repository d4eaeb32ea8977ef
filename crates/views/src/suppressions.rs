//! A tenant's suppression list as it leaves Sealpost: an entry, and what an import did.

use sealpost_domain::Suppression;
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// An address the tenant no longer mails.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SuppressionView {
    /// The address, in lowercase (the form in which it is matched).
    pub address: String,
    /// Why it is suppressed.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(hard_bounce|complaint|unsubscribe|manual)$")
    )]
    pub reason: &'static str,
    /// What was reported (a bounce's status and diagnostic), or the note of whoever added it.
    pub detail: String,
    /// The message whose bounce, complaint or unsubscribe caused the entry.
    pub message_id: Option<String>,
    /// When it was added (seconds since the Unix epoch).
    pub created_at: i64,
}

impl From<&Suppression> for SuppressionView {
    fn from(entry: &Suppression) -> Self {
        Self {
            address: entry.address.as_str().to_owned(),
            reason: entry.reason.as_str(),
            detail: entry.detail.clone(),
            message_id: entry.message_id.map(|id| id.to_string()),
            created_at: entry.created_at.0,
        }
    }
}

/// What an import of a CSV did.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportView {
    /// Entries read from the CSV.
    pub read: usize,
    /// Entries new to the list; an address already on it keeps its entry.
    pub added: u64,
}
