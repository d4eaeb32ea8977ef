//! A signing domain's keys over time (SPEC S3.4, S3.5, S11.1): a generated or imported key is
//! added pending under a selector of its own, so the active key keeps signing until the new
//! key's record is published; promotion follows DNS (or an operator's force, recorded with a
//! warning), and the key it replaces starts retiring in the same commit.

use sealpost_dnsauth::dkim_record::{DkimRecordCheck, check_dkim_record_for};
use sealpost_domain::{
    DkimDnsRecord, DomainEvent, KeyAlgorithm, KeyId, KeyOrigin, KeyRefusal, KeyState, Promotion,
    RotationPeriod, RotationRecord, SigningDomain, SigningDomainId, SigningKey, TenantId,
};
use sealpost_store::StoreError;
use sealpost_vault::{PrivateKey, Vault};

use crate::signing_domains::not_found_domain;
use crate::{ServiceError, SigningDomains};

/// A key to import: the pasted PEM text and the password it was encrypted with, if any.
#[derive(Clone, Copy)]
pub struct KeyImport<'a> {
    pub pem: &'a str,
    pub password: Option<&'a str>,
}

impl std::fmt::Debug for KeyImport<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("KeyImport(..)")
    }
}

/// Whether a change that DNS should confirm waits for DNS or is forced by an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsGate {
    /// Only when the key's record is found carrying the key.
    RequireRecord,
    /// Regardless of DNS, recorded with a warning.
    Force,
}

pub(crate) fn refused(refusal: KeyRefusal) -> ServiceError {
    match refusal {
        KeyRefusal::UnknownKey => ServiceError::NotFound("key"),
        other => ServiceError::Conflict(other.to_string()),
    }
}

impl SigningDomains {
    /// Generates a fresh RSA-2048 key pair for the domain (SPEC S3.4). Key generation takes tens
    /// of milliseconds of CPU, so it runs off the async threads.
    pub async fn generate_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<SigningDomain, ServiceError> {
        self.generate_key_of(tenant, id, KeyAlgorithm::Rsa).await
    }

    /// Generates a fresh key of `algorithm`: RSA-2048, or an Ed25519 key (RFC 8463) that signs
    /// beside the domain's RSA key once its record is published.
    pub async fn generate_key_of(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        algorithm: KeyAlgorithm,
    ) -> Result<SigningDomain, ServiceError> {
        self.generate_key_for(tenant, id, algorithm, AddedBy::Person)
            .await
    }

    /// Generates a fresh key of `algorithm` under the key work limit and adds it pending, for a
    /// person or for an automatic rotation (which records what the tenant must publish).
    pub(crate) async fn generate_key_for(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        algorithm: KeyAlgorithm,
        by: AddedBy,
    ) -> Result<SigningDomain, ServiceError> {
        self.signing_domain(tenant, id).await?;
        let key = self
            .off_async_threads(move |vault| Ok(vault.generate_key(algorithm)?))
            .await?;
        self.add_key(tenant, id, &key, KeyOrigin::Generated, by)
            .await
    }

    /// Imports a pasted PEM key (SPEC S3.5). A refused key leaves the domain as it was.
    pub async fn import_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        import: KeyImport<'_>,
    ) -> Result<SigningDomain, ServiceError> {
        self.import_key_of(tenant, id, KeyAlgorithm::Rsa, import)
            .await
    }

    /// Imports a pasted PEM key of `algorithm`; a key of the other algorithm is refused with
    /// an error that names it.
    pub async fn import_key_of(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        algorithm: KeyAlgorithm,
        import: KeyImport<'_>,
    ) -> Result<SigningDomain, ServiceError> {
        self.signing_domain(tenant, id).await?;
        let pem = import.pem.to_owned();
        let password = import.password.map(str::to_owned);
        let key = self
            .off_async_threads(move |vault| {
                Ok(vault.import_key(algorithm, &pem, password.as_deref())?)
            })
            .await?;
        self.add_key(tenant, id, &key, KeyOrigin::Imported, AddedBy::Person)
            .await
    }

    /// Runs CPU-heavy vault work (key generation, key derivation) on the blocking pool, so it
    /// does not stall the async threads that serve other requests, and under the key work
    /// limit, so a burst of imports cannot take every core from signing.
    async fn off_async_threads(
        &self,
        work: impl FnOnce(&Vault) -> Result<PrivateKey, ServiceError> + Send + 'static,
    ) -> Result<PrivateKey, ServiceError> {
        let vault = self.vault.clone();
        self.key_work.run(move || work(&vault)).await?
    }

    /// Adds the key pending, under the next unused selector of its algorithm; nothing else
    /// changes, so an active domain keeps signing with its active keys.
    async fn add_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        key: &PrivateKey,
        origin: KeyOrigin,
        by: AddedBy,
    ) -> Result<SigningDomain, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        let delegated = self.is_delegated(&domain, key.algorithm()).await;
        let selector = if delegated {
            domain
                .next_delegated_selector(key.algorithm())
                .ok_or_else(|| {
                    ServiceError::Conflict(
                        "both selectors the domain's CNAMEs delegate hold keys; a new key can \
                         be added once the retiring key has retired"
                            .into(),
                    )
                })?
        } else {
            domain.next_selector_for(key.algorithm())
        };
        let now = self.clock.now();
        let public = SigningKey {
            id: KeyId::new(&self.clock),
            selector,
            state: KeyState::Pending,
            state_since: now,
            forced: false,
            algorithm: key.algorithm(),
            public_key_der: key.public_key_der(),
            bits: key.bits(),
            origin,
            created_at: now,
        };
        sealpost_domain::dkim_record_name(&public.selector, &domain.domain)
            .map_err(|error| ServiceError::invalid("selector", error))?;
        let notice = match by {
            AddedBy::Person => None,
            AddedBy::Rotation(period) => {
                Some(rotation_notice(&domain, &public, period, delegated)?)
            }
        };
        let sealed = self.sealing_vault().await?.seal(tenant, public.id, key);
        let event_id = self.clock.new_uuid();
        let notice = notice.map(|event| (self.clock.new_uuid(), event));
        self.store
            .insert_signing_key_noted(
                tenant,
                id,
                &public,
                &sealed,
                event_id,
                notice
                    .as_ref()
                    .map(|(notice_id, event)| (*notice_id, event)),
            )
            .await
            .map_err(|error| match error {
                StoreError::Duplicate(_) => ServiceError::Conflict(
                    "another key was added at the same moment; reload and try again".into(),
                ),
                other => not_found_domain(other),
            })?;
        self.signing_domain(tenant, id).await
    }

    /// Promotes a pending key: it signs from now on and the active key starts retiring. With
    /// [`DnsGate::RequireRecord`] its record must carry exactly the key; otherwise the refusal
    /// names what DNS shows.
    pub async fn promote_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        key: KeyId,
        gate: DnsGate,
    ) -> Result<SigningDomain, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        let candidate = domain.key(key).ok_or(ServiceError::NotFound("key"))?;
        // A key that is not pending is refused for what it is, before DNS is asked.
        if candidate.state != KeyState::Pending {
            return Err(refused(KeyRefusal::NotPending {
                selector: candidate.selector.clone(),
                state: candidate.state,
            }));
        }
        let how = match gate {
            DnsGate::Force => Promotion::Forced,
            DnsGate::RequireRecord => {
                let check = self.check_key_record(&domain, candidate).await;
                if !check.usable() {
                    return Err(not_published(&check));
                }
                Promotion::Published
            }
        };
        let changes =
            sealpost_domain::promote(&domain.keys, key, how, self.clock.now(), &self.key_policy)
                .map_err(refused)?;
        let changes = sealpost_domain::DomainChanges {
            keys: changes,
            ..Default::default()
        };
        self.commit(&domain, &changes).await
    }

    /// Looks a key's record up and compares it with the key (`k=rsa` or `k=ed25519`).
    pub(crate) async fn check_key_record(
        &self,
        domain: &SigningDomain,
        key: &SigningKey,
    ) -> DkimRecordCheck {
        let check = check_dkim_record_for(
            &self.resolver,
            domain.domain.as_str(),
            key.selector.as_str(),
            key.algorithm,
            Some(&key.public_key_der),
        )
        .await;
        match self.delegated_name(domain.tenant_id, &domain.domain, &key.selector) {
            Some(expected) => check.with_delegation(&expected),
            None => check,
        }
    }

    /// The private key of one of the domain's keys, opened for signing.
    pub async fn open_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        key: KeyId,
    ) -> Result<PrivateKey, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        domain.key(key).ok_or(ServiceError::NotFound("key"))?;
        let sealed = self
            .store
            .sealed_key(tenant, key)
            .await
            .map_err(not_found_domain)?;
        Ok(self.vault.open(tenant, key, &sealed)?)
    }
}

/// Who adds a key: a person (generate or import), or the tenant's automatic rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddedBy {
    Person,
    Rotation(RotationPeriod),
}

/// The `key.rotation_started` event of a key a rotation adds: the key it replaces, and the
/// record to publish (none on a domain whose CNAME delegates the selector to the platform).
fn rotation_notice(
    domain: &SigningDomain,
    key: &SigningKey,
    period: RotationPeriod,
    delegated: bool,
) -> Result<DomainEvent, ServiceError> {
    let replaces = domain
        .active_key_of(key.algorithm)
        .ok_or_else(|| {
            ServiceError::Conflict(format!(
                "{} has no active {} key to rotate",
                domain.domain, key.algorithm
            ))
        })?
        .selector
        .clone();
    let record = match delegated {
        true => RotationRecord::Delegated,
        false => {
            let record = DkimDnsRecord::for_key(
                &domain.domain,
                &key.selector,
                key.algorithm,
                &key.public_key_der,
            );
            RotationRecord::Txt {
                name: record.name,
                value: record.value,
            }
        }
    };
    Ok(DomainEvent::RotationStarted {
        key: key.id,
        selector: key.selector.clone(),
        replaces,
        period,
        record,
    })
}

/// The refusal when DNS does not carry a key: what was found, and the two ways on.
pub(crate) fn not_published(check: &DkimRecordCheck) -> ServiceError {
    ServiceError::KeyNotPublished(format!(
        "the DKIM record {} does not carry this key yet ({}). Publish the record and check \
         again, or force it, knowing that receivers will fail the signatures until the record \
         is published",
        check.name,
        check.describe().trim_end_matches('.')
    ))
}
