//! Proven sending identities: a tenant adds a domain, publishes the record Sealpost shows (or the
//! DKIM record of a signing domain of it), and verifies it; only then may its mail use the domain
//! in From or MAIL FROM (see `sealpost_domain::sending_identity` for the rules).

use sealpost_dns::LookupError;
use sealpost_dnsauth::dkim_record::{DkimRecordCause, check_dkim_record};
use sealpost_domain::{DomainName, Proof, ProofMethod, SendingDomain, TenantId, VerificationToken};

use crate::{ServiceError, SigningDomains};

/// Why a verification did not prove the domain, in the words of what DNS showed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{domain} is not proven yet: {found}. Publish the TXT record {record_name} with the value \
     \"{record_value}\" (or the DKIM record of a signing domain of {domain} with its key), then \
     verify again"
)]
pub struct VerificationFailure {
    pub domain: DomainName,
    /// What the lookups found, as a sentence.
    pub found: String,
    pub record_name: String,
    pub record_value: String,
}

fn parse_domain(domain: &str) -> Result<DomainName, ServiceError> {
    DomainName::parse(domain).map_err(|error| ServiceError::invalid("domain", error))
}

impl SigningDomains {
    /// Adds a domain the tenant wants to send as (or returns the one it has), with the record
    /// that proves it.
    pub async fn add_sending_domain(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> Result<SendingDomain, ServiceError> {
        let domain = parse_domain(domain)?;
        self.ensure_sending_domain(tenant, &domain).await
    }

    pub(crate) async fn ensure_sending_domain(
        &self,
        tenant: TenantId,
        domain: &DomainName,
    ) -> Result<SendingDomain, ServiceError> {
        let mut random = [0u8; 16];
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| ServiceError::Internal("the system random generator failed".into()))?;
        let candidate = SendingDomain {
            tenant_id: tenant,
            domain: domain.clone(),
            token: VerificationToken::from_random(random),
            proof: None,
            created_at: self.clock.now(),
        };
        match self.store.ensure_sending_domain(tenant, &candidate).await {
            Ok(sending_domain) => Ok(sending_domain),
            Err(sealpost_store::StoreError::NotFound) => Err(ServiceError::NotFound("tenant")),
            Err(other) => Err(other.into()),
        }
    }

    pub async fn list_sending_domains(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<SendingDomain>, ServiceError> {
        let domains = self.store.list_sending_domains(tenant).await?;
        // Only an empty list may be a tenant that does not exist: asking first would add a read
        // to every signing domain's page, which shows the tenant's sending domains.
        if domains.is_empty() {
            self.service().accounts().tenant(tenant).await?;
        }
        Ok(domains)
    }

    pub async fn sending_domain(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> Result<SendingDomain, ServiceError> {
        let domain = parse_domain(domain)?;
        self.store
            .sending_domain(tenant, &domain)
            .await?
            .ok_or(ServiceError::NotFound("sending domain"))
    }

    pub async fn delete_sending_domain(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> Result<(), ServiceError> {
        let domain = parse_domain(domain)?;
        match self.store.delete_sending_domain(tenant, &domain).await {
            Err(sealpost_store::StoreError::NotFound) => {
                Err(ServiceError::NotFound("sending domain"))
            }
            other => Ok(other?),
        }
    }

    /// Looks the proof up in DNS now: the verification record first, then the DKIM record of
    /// each of the tenant's signing domains of this domain that has a key. The domain is added
    /// first when the tenant did not have it. A proof is kept; a failure changes nothing and
    /// says what was found.
    pub async fn verify_sending_domain(
        &self,
        tenant: TenantId,
        domain: &str,
    ) -> Result<SendingDomain, ServiceError> {
        let domain = parse_domain(domain)?;
        let mut sending_domain = self.ensure_sending_domain(tenant, &domain).await?;
        let (method, found) = self.look_for_proof(tenant, &sending_domain).await?;
        let Some(method) = method else {
            return Err(ServiceError::NotProven(VerificationFailure {
                domain: domain.clone(),
                found,
                record_name: sending_domain.record_name(),
                record_value: sending_domain.record_value(),
            }));
        };
        let proof = Proof {
            method,
            proven_at: self.clock.now(),
        };
        self.store.record_proof(tenant, &domain, proof).await?;
        sending_domain.proof = Some(proof);
        Ok(sending_domain)
    }

    /// The proof DNS shows for the domain, or a sentence saying what it showed instead.
    async fn look_for_proof(
        &self,
        tenant: TenantId,
        sending_domain: &SendingDomain,
    ) -> Result<(Option<ProofMethod>, String), ServiceError> {
        let name = sending_domain.record_name();
        let expected = sending_domain.record_value();
        let mut found = match self.resolver.txt(&name).await {
            Ok(records) => {
                let values: Vec<String> = records
                    .iter()
                    .map(|record| String::from_utf8_lossy(&record.joined()).trim().to_owned())
                    .collect();
                if values.iter().any(|value| value == &expected) {
                    return Ok((Some(ProofMethod::VerificationRecord), String::new()));
                }
                format!("{name} holds {values:?}, not this tenant's token")
            }
            Err(LookupError::NxDomain | LookupError::NoData) => {
                format!("there is no TXT record at {name}")
            }
            Err(LookupError::Temporary(error)) => {
                format!("DNS did not answer for {name} ({error}); try again later")
            }
        };
        let signing_domains = self.store.list_signing_domains(tenant).await?;
        for signing_domain in signing_domains
            .iter()
            .filter(|candidate| candidate.domain == sending_domain.domain)
        {
            let Some(key) = signing_domain.current_key() else {
                continue;
            };
            let check = check_dkim_record(
                &self.resolver,
                signing_domain.domain.as_str(),
                key.selector.as_str(),
                Some(&key.public_key_der),
            )
            .await;
            if check.cause == DkimRecordCause::Matches {
                return Ok((Some(ProofMethod::DkimRecord), String::new()));
            }
            let described = check.describe();
            found.push_str(&format!(
                "; for the DKIM record {}: {}",
                check.name,
                described.trim_end_matches('.')
            ));
        }
        Ok((None, found))
    }

    /// Whether the tenant has proven `domain` (or a domain above it).
    pub(crate) async fn is_proven(
        &self,
        tenant: TenantId,
        domain: &DomainName,
    ) -> Result<bool, ServiceError> {
        let known = self.store.list_sending_domains(tenant).await?;
        Ok(known.iter().any(|candidate| candidate.covers(domain)))
    }
}
