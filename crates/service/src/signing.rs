//! Signing outgoing mail (SPEC S4) and verifying any message (SPEC S5.5): the message is
//! completed, the signing decision is taken from the tenant's signing domains, and the signature
//! is made with a cached signer that is dropped as soon as the domain's key changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sealpost_dkim::{Mailbox, ParsedMessage, Report, Signer, from_mailbox};
use sealpost_domain::{
    DomainName, KeyId, Selector, SigningDomain, SigningKey, SigningRecord, TenantId,
};

use crate::sending_config::SendingConfig;
use crate::{ServiceError, Submissions};

/// A message ready for the queue: exactly the bytes that will be sent.
#[derive(Debug, Clone)]
pub struct SignedMessage {
    pub message: Vec<u8>,
    pub signing: SigningRecord,
    /// Header fields Sealpost added to complete the message (SPEC S4.3).
    pub added_headers: Vec<&'static str>,
}

/// What a cached signer is filed under: the tenant, the domain and the selector.
type SignerKey = (TenantId, DomainName, Selector);

/// Signers by tenant, domain and selector, each remembered with the key it was opened for. A
/// rotation changes the active key, and with it the selector, so the new key gets its own entry.
#[derive(Debug, Default, Clone)]
pub(crate) struct SignerCache {
    signers: Arc<Mutex<HashMap<SignerKey, (KeyId, Signer)>>>,
}

impl SignerCache {
    fn get(&self, signing_domain: &SigningDomain, key: &SigningKey) -> Option<Signer> {
        let signers = self.signers.lock().expect("signer cache lock");
        signers
            .get(&cache_key(signing_domain, key))
            .filter(|(cached_key, _)| *cached_key == key.id)
            .map(|(_, signer)| signer.clone())
    }

    /// Drops every signer of the tenant, so that none of its keys stays open in memory once
    /// the tenant is deleted.
    pub(crate) fn forget_tenant(&self, tenant: TenantId) {
        let mut signers = self.signers.lock().expect("signer cache lock");
        signers.retain(|(owner, _, _), _| *owner != tenant);
    }

    fn put(&self, signing_domain: &SigningDomain, key: &SigningKey, signer: Signer) {
        let mut signers = self.signers.lock().expect("signer cache lock");
        signers.insert(cache_key(signing_domain, key), (key.id, signer));
    }
}

fn cache_key(signing_domain: &SigningDomain, key: &SigningKey) -> SignerKey {
    (
        signing_domain.tenant_id,
        signing_domain.domain.clone(),
        key.selector.clone(),
    )
}

fn invalid_message(message: impl ToString) -> ServiceError {
    ServiceError::Invalid {
        field: "message",
        message: message.to_string(),
    }
}

impl Submissions {
    /// Completes and, when the tenant may sign it, signs a message for sending from
    /// `mail_from`. A message without exactly one readable From address is refused.
    pub async fn sign_outgoing(
        &self,
        tenant: TenantId,
        raw: &[u8],
        mail_from: &str,
    ) -> Result<SignedMessage, ServiceError> {
        let config = self.sending_config(tenant).await?;
        self.sign_under(&config, raw, mail_from).await
    }

    /// [`Self::sign_outgoing`] with the tenant's sending configuration already read.
    pub(crate) async fn sign_under(
        &self,
        config: &SendingConfig,
        raw: &[u8],
        mail_from: &str,
    ) -> Result<SignedMessage, ServiceError> {
        let envelope = Mailbox::parse(mail_from).map_err(|error| ServiceError::Invalid {
            field: "mail_from",
            message: error.to_string(),
        })?;
        let normalized = sealpost_dkim::normalize_line_endings(raw);
        let author = from_mailbox(&ParsedMessage::parse(&normalized).map_err(invalid_message)?)
            .map_err(invalid_message)?;
        sealpost_domain::check_sender_domains(
            &author.domain,
            &envelope.domain,
            &config.sending_domains,
        )
        .map_err(ServiceError::Unproven)?;
        let now = self.clock.now();
        let prepared =
            sealpost_dkim::prepare(&normalized, now, &author.domain).map_err(invalid_message)?;
        let domains = &config.signing_domains;
        let mail_from_domain = config
            .signing_domain_of_return_path(&envelope.domain)
            .unwrap_or(&envelope.domain);
        let (signing_domain, key) =
            match sealpost_domain::decide_signing(&author.domain, mail_from_domain, domains) {
                Err(reason) => {
                    return Ok(SignedMessage {
                        message: prepared.message,
                        signing: SigningRecord::Unsigned(reason),
                        added_headers: prepared.added,
                    });
                }
                Ok(chosen) => chosen,
            };
        // The RSA signature first, then the Ed25519 one when the domain has an active Ed25519
        // key (RFC 8463): `signing_keys` puts the decided RSA key first.
        let mut signers = vec![self.signer(signing_domain, key).await?];
        for extra in signing_domain.signing_keys().into_iter().skip(1) {
            signers.push(self.signer(signing_domain, extra).await?);
        }
        let message = sealpost_dkim::sign_owned_with(&signers, prepared.message, now.0)
            .map_err(invalid_message)?;
        Ok(SignedMessage {
            message,
            signing: SigningRecord::signed_by(signing_domain, key),
            added_headers: prepared.added,
        })
    }

    /// The cached signer for a signing domain's active key, opened anew when the key has
    /// changed. The key is read by its id, so a rotation committed since the domain was read
    /// still finds it: a retiring key's record stays published, so its signature verifies.
    async fn signer(
        &self,
        signing_domain: &SigningDomain,
        key: &SigningKey,
    ) -> Result<Signer, ServiceError> {
        if let Some(signer) = self.signers.get(signing_domain, key) {
            return Ok(signer);
        }
        let sealed = self
            .store
            .sealed_key(signing_domain.tenant_id, key.id)
            .await?;
        let opened = self.vault.open(signing_domain.tenant_id, key.id, &sealed)?;
        let signer = Signer::new(
            signing_domain.domain.clone(),
            key.selector.clone(),
            Arc::new(opened),
        );
        self.signers.put(signing_domain, key, signer.clone());
        Ok(signer)
    }

    /// Verifies every DKIM signature of a message with keys from DNS (SPEC S5.5).
    pub async fn verify_message(&self, raw: &[u8]) -> Result<Report, ServiceError> {
        sealpost_dkim::verify_with_dns(raw, &self.resolver, self.clock.now())
            .await
            .map_err(invalid_message)
    }
}
