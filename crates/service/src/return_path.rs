//! Return-path domains (SPEC S10.1) as use cases: a tenant sets one for a signing domain, is
//! shown the MX and SPF records it needs, and has them checked; once they are right, delivery
//! sends that domain's mail with a VERP MAIL FROM (`verp.rs`) that names the recipient and
//! cannot be forged, so a bounce that comes back names what it is about.

pub(crate) mod verp;

use sealpost_dnsauth::finding::Status;
use sealpost_dnsauth::mx::{MxCause, check_mx};
use sealpost_dnsauth::spf::check_tenant_spf;
use sealpost_domain::{
    DomainName, EmailAddress, QueuedMessage, RecipientId, ReturnPath, Route, SigningRecord,
    TenantId,
};
use sealpost_store::{Claim, StoreError};

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

    /// The signing domain whose return-path domain `domain` is, for the tenant: for the
    /// signing decision (SPEC S4.1) a MAIL FROM there counts as one in the signing domain.
    pub(crate) async fn signing_domain_of_return_path(
        &self,
        tenant: TenantId,
        domain: &DomainName,
    ) -> Result<Option<DomainName>, ServiceError> {
        let entry = self.store.return_path_of_tenant(tenant, domain).await?;
        Ok(entry.map(|entry| entry.domain))
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
            let found = match record.kind {
                "MX" => self.mx_found(&entry).await,
                _ => self.spf_found(&entry).await,
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

    async fn mx_found(&self, entry: &ReturnPath) -> Result<(), String> {
        let inbound = self.inbound_host.as_ref().map(DomainName::as_str);
        let check = check_mx(&self.resolver, entry.return_path.as_str()).await;
        match &check.cause {
            MxCause::Hosts(hosts)
                if hosts.iter().any(|(_, host)| Some(host.as_str()) == inbound) =>
            {
                Ok(())
            }
            MxCause::Hosts(hosts) => Err(format!(
                "the MX hosts are {}, not the platform's inbound host",
                hosts
                    .iter()
                    .map(|(_, host)| host.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => Err(check.describe()),
        }
    }

    async fn spf_found(&self, entry: &ReturnPath) -> Result<(), String> {
        let Some(platform) = &self.platform else {
            return Err("the platform's SPF include is not configured".to_owned());
        };
        let report = check_tenant_spf(
            &self.resolver,
            entry.return_path.as_str(),
            &platform.networks,
            &platform.include_host,
            self.clock.now(),
        )
        .await;
        match report.status() {
            Status::Error => Err(report
                .findings
                .iter()
                .filter(|finding| finding.status == Status::Error)
                .map(|finding| finding.found.clone())
                .collect::<Vec<_>>()
                .join("; ")),
            Status::Ok | Status::Warning => Ok(()),
        }
    }
}

impl Delivery {
    /// The return-path domain a message goes out with: native mail signed for a domain whose
    /// return path a check has verified. Relay mail keeps its MAIL FROM, since the tenant's own
    /// server may refuse another.
    pub(crate) async fn verp_return_path(
        &self,
        message: &QueuedMessage,
    ) -> Result<Option<DomainName>, ServiceError> {
        let SigningRecord::Signed { domain, .. } = &message.signing else {
            return Ok(None);
        };
        if message.route != Route::Native {
            return Ok(None);
        }
        let entry = self.store.return_path(message.tenant_id, domain).await?;
        Ok(entry
            .filter(|entry| entry.verified_at.is_some())
            .map(|entry| entry.return_path))
    }

    /// The VERP MAIL FROM of one recipient: its signed local part at the return-path domain.
    pub(crate) fn verp_address(&self, return_path: &DomainName, claim: &Claim) -> EmailAddress {
        let key = self.vault.authenticator(verp::PURPOSE);
        let local = verp::local_part(&key, claim.tenant_id, claim.recipient_id);
        EmailAddress::parse(&format!("{local}@{return_path}"))
            .expect("a VERP local part at a domain name is an address")
    }
}
