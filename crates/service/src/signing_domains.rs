//! Signing domains (SPEC S3, S11): adding them, their selector, switching signing on (only when
//! DNS carries the key, unless forced) and off, deleting them, their history and the DNS record
//! to publish. Keys are in [`crate::signing_keys`], state changes in [`crate::domain_changes`].

use sealpost_domain::{
    Activation, DkimDnsRecord, DnsStatus, DomainChanges, DomainName, KeyAlgorithm, KeyId, KeyState,
    Promotion, Selector, SigningDomain, SigningDomainId, SigningKey, TenantId,
};
use sealpost_store::{DomainEventRecord, StoreError};

use crate::signing_keys::{DnsGate, not_published, refused};
use crate::{ServiceError, SigningDomains};

/// How many events of a domain's history the pages and the API show.
const HISTORY: i64 = 50;

pub(crate) fn not_found_domain(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("signing domain"),
        StoreError::Changed(what) => ServiceError::Conflict(what.to_owned()),
        other => other.into(),
    }
}

impl SigningDomains {
    pub async fn list_signing_domains(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<SigningDomain>, ServiceError> {
        let domains = self.store.list_signing_domains(tenant).await?;
        // Only an empty list may be a tenant that does not exist: asking first would add a read
        // to every list (and to every dashboard) that finds domains.
        if domains.is_empty() {
            self.service().accounts().tenant(tenant).await?;
        }
        Ok(domains)
    }

    pub async fn add_signing_domain(
        &self,
        tenant: TenantId,
        domain: &str,
        selector: &str,
    ) -> Result<SigningDomain, ServiceError> {
        let domain =
            DomainName::parse(domain).map_err(|error| ServiceError::invalid("domain", error))?;
        let selector =
            Selector::parse(selector).map_err(|error| ServiceError::invalid("selector", error))?;
        sealpost_domain::dkim_record_name(&selector, &domain)
            .map_err(|error| ServiceError::invalid("selector", error))?;
        let now = self.clock.now();
        let signing_domain = SigningDomain {
            id: SigningDomainId::new(&self.clock),
            tenant_id: tenant,
            domain,
            selector,
            active: false,
            keys: Vec::new(),
            dns: DnsStatus::new(now),
            records: Vec::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        match self
            .store
            .insert_signing_domain(tenant, &signing_domain)
            .await
        {
            Ok(()) => {
                // The tenant may prove the domain by the DKIM record or by the verification
                // record, so the latter's token exists from the start.
                self.ensure_sending_domain(tenant, &signing_domain.domain)
                    .await?;
                Ok(signing_domain)
            }
            Err(StoreError::NotFound) => Err(ServiceError::NotFound("tenant")),
            Err(other) => Err(other.into()),
        }
    }

    pub async fn signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<SigningDomain, ServiceError> {
        self.store
            .signing_domain(tenant, id)
            .await
            .map_err(not_found_domain)
    }

    /// Finds a signing domain by id, or by domain name when the tenant has it once (or the
    /// selector, the domain's or one of its keys', is given).
    pub async fn find_signing_domain(
        &self,
        tenant: TenantId,
        id_or_domain: &str,
        selector: Option<&str>,
    ) -> Result<SigningDomain, ServiceError> {
        if let Ok(id) = id_or_domain.parse::<SigningDomainId>() {
            return self.signing_domain(tenant, id).await;
        }
        let domain = DomainName::parse(id_or_domain)
            .map_err(|error| ServiceError::invalid("domain", error))?;
        let selector = selector
            .map(Selector::parse)
            .transpose()
            .map_err(|error| ServiceError::invalid("selector", error))?;
        let mut matches: Vec<SigningDomain> = self
            .list_signing_domains(tenant)
            .await?
            .into_iter()
            .filter(|candidate| candidate.domain == domain)
            .filter(|candidate| {
                selector.as_ref().is_none_or(|wanted| {
                    &candidate.selector == wanted
                        || candidate.keys.iter().any(|key| &key.selector == wanted)
                })
            })
            .collect();
        match matches.len() {
            0 => Err(ServiceError::NotFound("signing domain")),
            1 => Ok(matches.remove(0)),
            _ => Err(ServiceError::Invalid {
                field: "selector",
                message: format!(
                    "{domain} has several selectors ({}); name one with --selector",
                    matches
                        .iter()
                        .map(|candidate| candidate.selector.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    /// Switches signing on or off and/or changes the selector; switching on waits for DNS to
    /// carry the key's record.
    pub async fn update_signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        active: Option<bool>,
        selector: Option<&str>,
    ) -> Result<SigningDomain, ServiceError> {
        self.edit_signing_domain(tenant, id, active, selector, DnsGate::RequireRecord)
            .await
    }

    /// [`Self::update_signing_domain`], switching on by force when `gate` says so.
    pub async fn edit_signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        active: Option<bool>,
        selector: Option<&str>,
        gate: DnsGate,
    ) -> Result<SigningDomain, ServiceError> {
        let mut domain = self.signing_domain(tenant, id).await?;
        if let Some(selector) = selector {
            domain = self.change_selector(tenant, id, selector).await?;
        }
        match active {
            Some(true) => self.activate(tenant, id, gate).await,
            Some(false) => self.deactivate(tenant, id).await,
            None => Ok(domain),
        }
    }

    /// Changes the selector of a domain that has no key yet; a key's selector is where its
    /// record is published, so it never changes.
    pub async fn change_selector(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        selector: &str,
    ) -> Result<SigningDomain, ServiceError> {
        let selector =
            Selector::parse(selector).map_err(|error| ServiceError::invalid("selector", error))?;
        let current = self.signing_domain(tenant, id).await?;
        if current.selector == selector {
            return Ok(current);
        }
        sealpost_domain::dkim_record_name(&selector, &current.domain)
            .map_err(|error| ServiceError::invalid("selector", error))?;
        if !current.keys.is_empty() {
            return Err(ServiceError::Conflict(
                "the selector can only be changed while the domain has no key: each key's \
                 record is published under its own selector"
                    .to_owned(),
            ));
        }
        self.store
            .set_signing_domain_selector(tenant, id, &selector, self.clock.now())
            .await
            .map_err(not_found_domain)
    }

    /// Switches signing on (SPEC S3.1, S11.1). It needs a key and a domain the tenant has
    /// proven, and, unless forced, the key's record published: the active key, or else the
    /// newest pending key, which is promoted in the same commit.
    pub async fn activate(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        gate: DnsGate,
    ) -> Result<SigningDomain, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        if domain.active {
            return Ok(domain);
        }
        let key = domain.current_key().ok_or(ServiceError::NoKey)?;
        if !self.is_proven(tenant, &domain.domain).await? {
            self.verify_sending_domain(tenant, domain.domain.as_str())
                .await?;
        }
        let check = self.check_key_record(&domain, key).await;
        let published = check.usable();
        if !published && gate == DnsGate::RequireRecord {
            return Err(not_published(&check));
        }
        let mut changes = DomainChanges {
            activation: Some(Activation::On { forced: !published }),
            ..DomainChanges::default()
        };
        if key.state == KeyState::Pending {
            let how = if published {
                Promotion::Published
            } else {
                Promotion::Forced
            };
            changes.keys = sealpost_domain::promote(
                &domain.keys,
                key.id,
                how,
                self.clock.now(),
                &self.key_policy,
            )
            .map_err(refused)?;
        }
        self.commit(&domain, &changes).await
    }

    /// Switches signing off: mail from the domain goes out unsigned by the tenant.
    pub async fn deactivate(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<SigningDomain, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        if !domain.active {
            return Ok(domain);
        }
        let changes = DomainChanges {
            activation: Some(Activation::Off),
            ..DomainChanges::default()
        };
        self.commit(&domain, &changes).await
    }

    /// Deletes a signing domain, unless mail signed with one of its keys still waits for
    /// delivery: its keys' records and states are what tells the tenant which records to keep.
    pub async fn delete_signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<(), ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        let selectors: Vec<Selector> = domain.keys.iter().map(|key| key.selector.clone()).collect();
        let waiting = self
            .store
            .unfinished_signed_with(tenant, &domain.domain, &selectors)
            .await?;
        if waiting > 0 {
            return Err(ServiceError::Conflict(format!(
                "{waiting} {} of mail signed for {} still {} for delivery; delete the domain \
                 once {} delivered or expired",
                if waiting == 1 {
                    "recipient"
                } else {
                    "recipients"
                },
                domain.domain,
                if waiting == 1 { "waits" } else { "wait" },
                if waiting == 1 { "it is" } else { "they are" },
            )));
        }
        self.store
            .delete_signing_domain(tenant, id)
            .await
            .map_err(not_found_domain)
    }

    /// The DKIM record the tenant must publish (SPEC S3.8): the current key's (active, else the
    /// newest pending one).
    pub async fn dns_record(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<DkimDnsRecord, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        let key = domain.current_key().ok_or(ServiceError::NoKey)?;
        Ok(key_dns_record(&domain, key))
    }

    /// The record of the domain's current Ed25519 key (active, else the newest pending one),
    /// when it has one: published beside the RSA record for the second signature (RFC 8463).
    pub async fn ed25519_dns_record(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<Option<DkimDnsRecord>, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        Ok(domain
            .current_key_of(KeyAlgorithm::Ed25519)
            .map(|key| key_dns_record(&domain, key)))
    }

    /// The record of one key, whatever its state: to publish (pending), to keep (active,
    /// retiring) or to delete (retired).
    pub async fn key_record(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        key: KeyId,
    ) -> Result<DkimDnsRecord, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        let key = domain.key(key).ok_or(ServiceError::NotFound("key"))?;
        Ok(key_dns_record(&domain, key))
    }

    /// The domain's history, newest first.
    pub async fn domain_history(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<Vec<DomainEventRecord>, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        self.history_of(&domain).await
    }

    /// The history of a domain already read with [`Self::signing_domain`]: having read it proves
    /// that it is the tenant's, so no second read checks that it exists.
    pub async fn history_of(
        &self,
        domain: &SigningDomain,
    ) -> Result<Vec<DomainEventRecord>, ServiceError> {
        Ok(self
            .store
            .domain_events(domain.tenant_id, domain.id, HISTORY)
            .await?)
    }
}

/// The TXT record that publishes one of the domain's keys, `k=rsa` or `k=ed25519`.
pub(crate) fn key_dns_record(domain: &SigningDomain, key: &SigningKey) -> DkimDnsRecord {
    DkimDnsRecord::for_key(
        &domain.domain,
        &key.selector,
        key.algorithm,
        &key.public_key_der,
    )
}
