//! Signing domains (SPEC S3): adding them, giving them a key (generated or imported, sealed by
//! the vault before it reaches the store), activating them, and the DNS record to publish.

use sealpost_domain::{
    DkimDnsRecord, DomainName, KeyId, KeyOrigin, Selector, SigningDomain, SigningDomainId,
    SigningDomainUpdate, SigningKey, TenantId,
};
use sealpost_store::StoreError;
use sealpost_vault::{PrivateKey, Vault};

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

fn not_found_domain(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("signing domain"),
        other => other.into(),
    }
}

impl SigningDomains {
    pub async fn list_signing_domains(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<SigningDomain>, ServiceError> {
        self.service().accounts().tenant(tenant).await?;
        Ok(self.store.list_signing_domains(tenant).await?)
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
            key: None,
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

    /// Finds a signing domain by id, or by domain name when the tenant has it with one
    /// selector only (or the selector is given).
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
                selector
                    .as_ref()
                    .is_none_or(|wanted| &candidate.selector == wanted)
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

    /// Changes the active flag and/or the selector. Activation needs a key (a domain without
    /// one could not sign anything) and a domain the tenant has proven; when it has not yet,
    /// DNS is asked now, so publishing the DKIM record and activating is all it takes.
    pub async fn update_signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        active: Option<bool>,
        selector: Option<&str>,
    ) -> Result<SigningDomain, ServiceError> {
        let selector = selector
            .map(Selector::parse)
            .transpose()
            .map_err(|error| ServiceError::invalid("selector", error))?;
        let current = self.signing_domain(tenant, id).await?;
        if let Some(selector) = &selector {
            sealpost_domain::dkim_record_name(selector, &current.domain)
                .map_err(|error| ServiceError::invalid("selector", error))?;
        }
        if active == Some(true) {
            if current.key.is_none() {
                return Err(ServiceError::NoKey);
            }
            if !self.is_proven(tenant, &current.domain).await? {
                self.verify_sending_domain(tenant, current.domain.as_str())
                    .await?;
            }
        }
        let update = SigningDomainUpdate { active, selector };
        self.store
            .update_signing_domain(tenant, id, &update, self.clock.now())
            .await
            .map_err(not_found_domain)
    }

    /// Generates a fresh RSA-2048 key pair for the domain (SPEC S3.4). Key generation takes tens
    /// of milliseconds of CPU, so it runs off the async threads.
    pub async fn generate_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<SigningDomain, ServiceError> {
        self.signing_domain(tenant, id).await?;
        let key = self
            .off_async_threads(|vault| Ok(vault.generate()?))
            .await?;
        self.store_key(tenant, id, &key, KeyOrigin::Generated).await
    }

    /// Imports a pasted PEM key (SPEC S3.5). A refused key leaves the domain as it was.
    pub async fn import_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        import: KeyImport<'_>,
    ) -> Result<SigningDomain, ServiceError> {
        self.signing_domain(tenant, id).await?;
        let pem = import.pem.to_owned();
        let password = import.password.map(str::to_owned);
        let key = self
            .off_async_threads(move |vault| Ok(vault.import(&pem, password.as_deref())?))
            .await?;
        self.store_key(tenant, id, &key, KeyOrigin::Imported).await
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

    async fn store_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        key: &PrivateKey,
        origin: KeyOrigin,
    ) -> Result<SigningDomain, ServiceError> {
        let now = self.clock.now();
        let public = SigningKey {
            id: KeyId::new(&self.clock),
            public_key_der: key.public_key_der(),
            bits: key.bits(),
            origin,
            created_at: now,
        };
        let sealed = self.vault.seal(tenant, public.id, key);
        self.store
            .set_signing_key(tenant, id, &public, &sealed, now)
            .await
            .map_err(not_found_domain)
    }

    /// The private key of a signing domain, opened for signing.
    pub async fn open_key(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<PrivateKey, ServiceError> {
        let (key_id, sealed) = self
            .store
            .sealed_key(tenant, id)
            .await
            .map_err(not_found_domain)?
            .ok_or(ServiceError::NoKey)?;
        Ok(self.vault.open(tenant, key_id, &sealed)?)
    }

    pub async fn delete_signing_domain(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<(), ServiceError> {
        self.store
            .delete_signing_domain(tenant, id)
            .await
            .map_err(not_found_domain)
    }

    /// The DKIM record the tenant must publish (SPEC S3.8).
    pub async fn dns_record(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<DkimDnsRecord, ServiceError> {
        let domain = self.signing_domain(tenant, id).await?;
        let key = domain.key.as_ref().ok_or(ServiceError::NoKey)?;
        Ok(DkimDnsRecord::new(&domain.domain, &domain.selector, key))
    }
}
