//! The tenant's suppression list (SPEC S10.3) as use cases: list, add, remove, import and export
//! as CSV, and the check every submission makes, so that a suppressed recipient is accepted
//! already final (`suppressed`, with the reason) and never sent. The rules are the domain's
//! (`sealpost_domain::suppression`); the entries live in the store, one tenant's apart from
//! every other's.

mod csv;

use sealpost_domain::limits::suppression_import::MAX_DETAIL_CHARS;
use sealpost_domain::{
    Recipient, RecipientState, SuppressedAddress, Suppression, SuppressionReason, TenantId,
};
use sealpost_store::StoreError;

use crate::submission_reads::SubmissionReads;
use crate::{FeedbackLoop, ServiceError, text};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Entries read from the CSV.
    pub read: usize,
    /// Entries new to the list (an address already on it keeps its entry).
    pub added: u64,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

fn parse_address(address: &str) -> Result<SuppressedAddress, ServiceError> {
    SuppressedAddress::parse(address).map_err(|error| invalid("address", error.to_string()))
}

impl FeedbackLoop {
    pub async fn list_suppressions(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<Suppression>, ServiceError> {
        self.service().accounts().tenant(tenant).await?;
        Ok(self.store.list_suppressions(tenant).await?)
    }

    /// Puts an address on the list by hand (`reason` names one of the reasons; `manual` when
    /// empty). An address already on it keeps its entry, which is returned.
    pub async fn add_suppression(
        &self,
        tenant: TenantId,
        address: &str,
        reason: &str,
        detail: &str,
    ) -> Result<Suppression, ServiceError> {
        let address = parse_address(address)?;
        let reason = match reason.trim() {
            "" => SuppressionReason::Manual,
            text => SuppressionReason::parse(text).ok_or_else(|| {
                invalid(
                    "reason",
                    format!("{text:?} is not one of hard_bounce, complaint, unsubscribe, manual"),
                )
            })?,
        };
        let detail = text::optional_line("detail", detail, MAX_DETAIL_CHARS)?;
        self.service().accounts().tenant(tenant).await?;
        let entry = Suppression {
            tenant_id: tenant,
            address: address.clone(),
            reason,
            message_id: None,
            detail,
            created_at: self.clock.now(),
        };
        self.store.add_suppressions(tenant, &[entry]).await?;
        self.suppression(tenant, &address).await
    }

    async fn suppression(
        &self,
        tenant: TenantId,
        address: &SuppressedAddress,
    ) -> Result<Suppression, ServiceError> {
        self.store
            .suppression(tenant, address)
            .await?
            .ok_or(ServiceError::NotFound("suppression"))
    }

    /// The tenant's entry for one address.
    pub async fn find_suppression(
        &self,
        tenant: TenantId,
        address: &str,
    ) -> Result<Suppression, ServiceError> {
        let address = parse_address(address)?;
        self.suppression(tenant, &address).await
    }

    /// Takes an address off the list: mail to it is sent again.
    pub async fn remove_suppression(
        &self,
        tenant: TenantId,
        address: &str,
    ) -> Result<(), ServiceError> {
        let address = parse_address(address)?;
        match self.store.remove_suppression(tenant, &address).await {
            Err(StoreError::NotFound) => Err(ServiceError::NotFound("suppression")),
            other => Ok(other?),
        }
    }

    /// Reads a CSV (see `suppression::csv` for its columns) and adds every entry in one
    /// transaction. A file with any bad line is refused whole, naming each bad line, and nothing
    /// is stored.
    pub async fn import_suppressions(
        &self,
        tenant: TenantId,
        text: &str,
    ) -> Result<ImportSummary, ServiceError> {
        let imported = csv::parse(text).map_err(|errors| invalid("csv", errors.to_string()))?;
        self.service().accounts().tenant(tenant).await?;
        let now = self.clock.now();
        let entries: Vec<Suppression> = imported
            .into_iter()
            .map(|entry| Suppression {
                tenant_id: tenant,
                address: entry.address,
                reason: entry.reason,
                message_id: None,
                detail: entry.detail,
                created_at: now,
            })
            .collect();
        let added = self.store.add_suppressions(tenant, &entries).await?;
        Ok(ImportSummary {
            read: entries.len(),
            added,
        })
    }

    /// The whole list as CSV, which an import reads back.
    pub async fn export_suppressions(&self, tenant: TenantId) -> Result<String, ServiceError> {
        let entries = self.list_suppressions(tenant).await?;
        Ok(csv::render(&entries))
    }
}

/// Marks the recipients that are on the tenant's list `suppressed`, with the reason as their
/// last reply, so they are committed final and never claimed for delivery; the others are left
/// as they are. Returns the tenant's sending version, read in the same statement, since a
/// submission needs both. With `api_key` (its hash), the statement confirms the key too: a key
/// that is no longer the tenant's is answered as a missing tenant.
pub(crate) async fn mark_suppressed(
    reads: &SubmissionReads,
    tenant: TenantId,
    api_key: Option<&str>,
    recipients: &mut [Recipient],
) -> Result<i64, ServiceError> {
    let mut addresses = Vec::with_capacity(recipients.len());
    for recipient in recipients.iter() {
        addresses.push(parse_address(&recipient.address)?);
    }
    let (version, entries) = match reads.read(tenant, api_key, addresses.clone()).await {
        Err(sealpost_store::StoreError::NotFound) => return Err(ServiceError::NotFound("tenant")),
        other => other?,
    };
    for (recipient, address) in recipients.iter_mut().zip(&addresses) {
        if let Some(entry) = entries.iter().find(|entry| &entry.address == address) {
            recipient.state = RecipientState::Suppressed;
            recipient.last_reply = Some(entry.recipient_reply());
        }
    }
    Ok(version)
}
