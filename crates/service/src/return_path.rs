//! Return-path domains (SPEC S10.1) as use cases: a tenant sets one for a signing domain, is
//! shown the MX and SPF records it needs, and has them checked; once they are right, delivery
//! sends that domain's mail with a VERP MAIL FROM (`verp.rs`) that names the recipient and
//! cannot be forged, so a bounce that comes back names what it is about.

pub(crate) mod verp;

use std::collections::{BTreeSet, HashMap};

use sealpost_dnsauth::mx::check_mx;
use sealpost_dnsauth::spf::check_tenant_spf;
use sealpost_domain::{
    DomainName, EmailAddress, QueuedMessage, RecipientId, RecordCheck, RecordKind, RecordOutcome,
    ReturnPath, Route, SigningRecord, TenantId,
};
use sealpost_store::{Claim, StoreError};

use crate::record_checks::{mx_outcome, spf_outcome};
use crate::{Delivery, FeedbackLoop, ServiceError};

/// A DNS record the return-path domain needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPathRecord {
    pub name: String,
    /// `MX` or `TXT`.
    pub kind: &'static str,
    pub value: String,
}

/// What a check of the return-path domain's records found: each record, and whether DNS has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPathCheck {
    pub return_path: ReturnPath,
    /// Each record with what DNS showed; `Ok` when DNS has it as needed.
    pub records: Vec<(ReturnPathRecord, Result<(), String>)>,
}

fn parse(field: &'static str, text: &str) -> Result<DomainName, ServiceError> {
    DomainName::parse(text).map_err(|error| ServiceError::invalid(field, error))
}

impl FeedbackLoop {
    /// Sets the return-path domain of the tenant's signing domain `domain` (replacing one it
    /// had; the new one is unverified until a check finds its records).
    pub async fn set_return_path(
        &self,
        tenant: TenantId,
        domain: &str,
        return_path: &str,
    ) -> Result<ReturnPath, ServiceError> {
        let domain = parse("domain", domain)?;
        let return_path = parse("return_path", return_path)?;
        ReturnPath::check(&domain, &return_path).map_err(|error| ServiceError::Invalid {
            field: "return_path",
            message: error.to_string(),
        })?;
        let signing = self
            .service()
            .signing_domains()
            .list_signing_domains(tenant)
            .await?;
        if !signing.iter().any(|candidate| candidate.domain == domain) {
            return Err(ServiceError::NotFound("signing domain"));
        }
        let entry = ReturnPath {
            tenant_id: tenant,
            domain,
            return_path,
            created_at: self.clock.now(),
            verified_at: None,
        };
        match self.store.set_return_path(&entry).await {
            Err(StoreError::Duplicate(_)) => Err(ServiceError::Conflict(format!(
                "{} is the return-path domain of another signing domain",
                entry.return_path
            ))),
            other => Ok(other.map(|()| entry)?),
        }
    }

    pub async fn return_path(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> Result<ReturnPath, ServiceError> {
        let domain = parse("domain", domain)?;
        self.store
            .return_path(tenant, &domain)
            .await?
            .ok_or(ServiceError::NotFound("return path"))
    }

    pub async fn remove_return_path(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> Result<(), ServiceError> {
        let domain = parse("domain", domain)?;
        match self.store.remove_return_path(tenant, &domain).await {
            Err(StoreError::NotFound) => Err(ServiceError::NotFound("return path")),
            other => Ok(other?),
        }
    }

    /// The tenant and recipient a return-path address names, when its domain is a tenant's
    /// return-path domain and its local part carries that tenant's tag; `None` for any other
    /// address, forged ones included.
    pub async fn recipient_of_return_address(
        &self,
        address: &EmailAddress,
    ) -> Result<Option<(TenantId, RecipientId)>, ServiceError> {
        let Some(entry) = self.store.return_path_by_domain(address.domain()).await? else {
            return Ok(None);
        };
        let key = self.vault.authenticator(verp::PURPOSE);
        Ok(verp::recipient(&key, entry.tenant_id, address.local_part())
            .map(|recipient| (entry.tenant_id, recipient)))
    }

    /// The records the return-path domain needs: an MX to the platform's inbound host, so
    /// bounces reach Sealpost, and SPF with the platform's include, so receivers accept the
    /// platform as its sender.
    pub fn return_path_records(
        &self,
        entry: &ReturnPath,
    ) -> Result<Vec<ReturnPathRecord>, ServiceError> {
        let (Some(inbound), Some(platform)) = (&self.inbound_host, &self.platform) else {
            return Err(ServiceError::Conflict(
                "this platform has no inbound host or SPF include configured, so it cannot \
                 receive bounces"
                    .to_owned(),
            ));
        };
        let name = entry.return_path.as_str().to_owned();
        Ok(vec![
            ReturnPathRecord {
                name: name.clone(),
                kind: "MX",
                value: format!("10 {inbound}."),
            },
            ReturnPathRecord {
                name,
                kind: "TXT",
                value: format!("v=spf1 include:{} -all", platform.include_host),
            },
        ])
    }

    /// The records to publish without looking them up; none when the platform has no inbound
    /// host or SPF include configured (the setting is kept, but bounces cannot come back).
    pub fn records_to_publish(&self, entry: &ReturnPath) -> Vec<ReturnPathRecord> {
        self.return_path_records(entry).unwrap_or_default()
    }

    /// Looks the records up now and records the outcome: verified when both are right, and
    /// unverified (so delivery stops using it) otherwise.
    pub async fn check_return_path(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> Result<ReturnPathCheck, ServiceError> {
        let mut entry = self.return_path(tenant, domain).await?;
        let records = self.return_path_records(&entry)?;
        let mut checked = Vec::with_capacity(records.len());
        for record in records {
            let (outcome, detail) = self.look_up(&entry, &record).await;
            let found = match outcome {
                RecordOutcome::Found => Ok(()),
                _ => Err(detail),
            };
            checked.push((record, found));
        }
        let verified = checked.iter().all(|(_, found)| found.is_ok());
        entry.verified_at = verified.then(|| self.clock.now());
        self.store
            .mark_return_path(tenant, &entry.domain, entry.verified_at)
            .await?;
        Ok(ReturnPathCheck {
            return_path: entry,
            records: checked,
        })
    }

    /// Follows what a re-check found of the return path's records
    /// ([`ReturnPath::usable_after`]): a verified return path whose MX or SPF DNS no longer
    /// shows stops being used (its bounces would be lost), and one whose records are found
    /// again is used again, as "Check now" on the return path would decide.
    pub(crate) async fn follow_recheck(
        &self,
        tenant: TenantId,
        domain: &DomainName,
        usable: bool,
    ) -> Result<(), ServiceError> {
        let Some(entry) = self.store.return_path(tenant, domain).await? else {
            return Ok(());
        };
        let verified_at = match (usable, entry.verified_at) {
            (true, None) => Some(self.clock.now()),
            (false, Some(_)) => None,
            _ => return Ok(()),
        };
        self.store
            .mark_return_path(tenant, &entry.domain, verified_at)
            .await?;
        Ok(())
    }

    /// The records as the scheduled re-check sees them (SPEC S11.2), which
    /// [`Self::follow_recheck`] then applies; none when the platform cannot receive bounces.
    pub(crate) async fn return_path_record_checks(&self, entry: &ReturnPath) -> Vec<RecordCheck> {
        let mut checks = Vec::new();
        for record in self.records_to_publish(entry) {
            let kind = match record.kind {
                "MX" => RecordKind::ReturnPathMx,
                _ => RecordKind::ReturnPathSpf,
            };
            let (outcome, detail) = self.look_up(entry, &record).await;
            checks.push(RecordCheck {
                kind,
                name: record.name,
                outcome,
                detail,
            });
        }
        checks
    }

    async fn look_up(
        &self,
        entry: &ReturnPath,
        record: &ReturnPathRecord,
    ) -> (RecordOutcome, String) {
        let name = entry.return_path.as_str();
        match (record.kind, &self.platform) {
            ("MX", _) => {
                let inbound = self.inbound_host.as_ref().map(DomainName::as_str);
                mx_outcome(&check_mx(&self.resolver, name).await, inbound)
            }
            (_, None) => (
                RecordOutcome::Wrong,
                "the platform's SPF include is not configured".to_owned(),
            ),
            (_, Some(platform)) => {
                let report = check_tenant_spf(
                    &self.resolver,
                    name,
                    &platform.networks,
                    &platform.include_host,
                    self.clock.now(),
                )
                .await;
                spf_outcome(&report)
            }
        }
    }
}

/// The verified return-path domain of each signing domain, by tenant: what a delivery round
/// sends its native signed mail with.
pub(crate) type VerifiedReturnPaths = HashMap<(TenantId, DomainName), DomainName>;

/// The return-path domain a message goes out with: native mail signed for a domain whose
/// return path a check has verified. Relay mail keeps its MAIL FROM, since the tenant's own
/// server may refuse another.
pub(crate) fn verp_return_path(
    message: &QueuedMessage,
    verified: &VerifiedReturnPaths,
) -> Option<DomainName> {
    let SigningRecord::Signed { domain, .. } = &message.signing else {
        return None;
    };
    if message.route != Route::Native {
        return None;
    }
    verified.get(&(message.tenant_id, domain.clone())).cloned()
}

impl Delivery {
    /// The verified return paths of the tenants whose native signed mail is among `messages`,
    /// read in one query for the whole round.
    pub(crate) async fn verified_return_paths<'a>(
        &self,
        messages: impl Iterator<Item = &'a QueuedMessage>,
    ) -> Result<VerifiedReturnPaths, ServiceError> {
        let tenants: BTreeSet<TenantId> = messages
            .filter(|message| message.route == Route::Native && message.signing.is_signed())
            .map(|message| message.tenant_id)
            .collect();
        if tenants.is_empty() {
            return Ok(HashMap::new());
        }
        let tenants: Vec<TenantId> = tenants.into_iter().collect();
        let entries = self.store.verified_return_paths(&tenants).await?;
        Ok(entries
            .into_iter()
            .map(|entry| ((entry.tenant_id, entry.domain), entry.return_path))
            .collect())
    }

    /// The VERP MAIL FROM of one recipient: its signed local part at the return-path domain.
    pub(crate) fn verp_address(&self, return_path: &DomainName, claim: &Claim) -> EmailAddress {
        let key = self.vault.authenticator(verp::PURPOSE);
        let local = verp::local_part(&key, claim.tenant_id, claim.recipient_id);
        EmailAddress::parse(&format!("{local}@{return_path}"))
            .expect("a VERP local part at a domain name is an address")
    }
}
