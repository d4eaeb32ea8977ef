//! Automatic DKIM key rotation (SPEC S11.1): the tenant's period, and the scheduled pass that
//! adds a pending key to every domain whose active key has signed that long. The pass runs on the
//! node holding the re-check lease, a bounded number of keys at a time through the key work
//! limit; each key is generated and added exactly as "generate key" adds one, with a
//! `key.rotation_started` event saying what to publish, so promotion and retirement follow DNS as
//! for any other key. A domain whose rotation fails is put off for a while and tried again then.

use sealpost_domain::{KeyRotation, RotationPeriod, TenantId, Timestamp, rotations_due};
use sealpost_store::{RotationCandidate, StoreError};

use crate::dns_recheck::RECHECK_LEASE;
use crate::signing_keys::AddedBy;
use crate::{RecheckSettings, ServiceError, SigningDomains};

/// How the scheduled rotation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationSettings {
    /// Keys generated per pass at most: key generation takes a core for a while, and the pass
    /// runs on the node that also re-checks DNS.
    pub per_pass: i64,
    /// How long a domain whose rotation failed waits before it is tried again.
    pub retry_after_seconds: i64,
}

impl Default for RotationSettings {
    fn default() -> Self {
        Self {
            per_pass: 8,
            retry_after_seconds: 3600,
        }
    }
}

/// What one rotation pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationSummary {
    /// Each key added, as `domain: selector`.
    pub started: Vec<String>,
    /// Domains whose rotation failed, with the reason (tried again after the retry delay).
    pub errors: Vec<String>,
}

impl SigningDomains {
    /// The tenant's rotation setting.
    pub async fn key_rotation(&self, tenant: TenantId) -> Result<KeyRotation, ServiceError> {
        self.store
            .key_rotation(tenant)
            .await
            .map_err(not_found_tenant)
    }

    /// Sets the tenant's rotation: every `days` days, or off with `None`. A number of days
    /// outside the allowed range is refused with a sentence, and nothing is stored.
    pub async fn set_key_rotation(
        &self,
        tenant: TenantId,
        days: Option<i64>,
    ) -> Result<KeyRotation, ServiceError> {
        let rotation = match days {
            None => KeyRotation::Off,
            Some(days) => KeyRotation::Every(RotationPeriod::from_days(days).map_err(|error| {
                ServiceError::Invalid {
                    field: "every_days",
                    message: error.to_string(),
                }
            })?),
        };
        self.store
            .set_key_rotation(tenant, rotation)
            .await
            .map_err(not_found_tenant)?;
        Ok(rotation)
    }

    /// One rotation pass on the node `node`, when it holds (or can take) the re-check lease:
    /// up to `settings.per_pass` due keys are rotated. `None` when another node holds the lease.
    pub async fn scheduled_rotation(
        &self,
        node: &str,
        lease: &RecheckSettings,
        settings: &RotationSettings,
    ) -> Result<Option<RotationSummary>, ServiceError> {
        let now = self.clock.now();
        let until = Timestamp(now.0 + lease.lease_seconds);
        if !self
            .store
            .take_lease(RECHECK_LEASE, node, now, until)
            .await?
        {
            return Ok(None);
        }
        let mut summary = RotationSummary::default();
        for candidate in self
            .store
            .rotation_candidates(now, settings.per_pass)
            .await?
        {
            match self.rotate(candidate).await {
                Ok(Some(started)) => summary.started.push(started),
                Ok(None) => {}
                Err(error) => {
                    let retry_at = Timestamp(self.clock.now().0 + settings.retry_after_seconds);
                    summary.errors.push(format!(
                        "{}: {} (tried again after {})",
                        candidate.domain,
                        error.public_message(),
                        retry_at.rfc3339()
                    ));
                    if let Err(error) = self
                        .store
                        .postpone_rotation(candidate.tenant, candidate.domain, retry_at)
                        .await
                    {
                        summary.errors.push(format!(
                            "{}: the retry could not be put off: {error}",
                            candidate.domain
                        ));
                    }
                }
            }
        }
        Ok(Some(summary))
    }

    /// Rotates one due key: reads the domain again and, if the key is still due (no person
    /// added a key meanwhile), generates its successor. `None` when it is no longer due.
    async fn rotate(&self, candidate: RotationCandidate) -> Result<Option<String>, ServiceError> {
        let RotationCandidate {
            tenant,
            domain: id,
            algorithm,
            period,
        } = candidate;
        let domain = self.signing_domain(tenant, id).await?;
        if !rotations_due(&domain, period, self.clock.now()).contains(&algorithm) {
            return Ok(None);
        }
        let after = self
            .generate_key_for(tenant, id, algorithm, AddedBy::Rotation(period))
            .await?;
        let pending = after
            .pending_key_of(algorithm)
            .ok_or(ServiceError::NotFound("key"))?;
        Ok(Some(format!("{}: {}", after.domain, pending.selector)))
    }
}

fn not_found_tenant(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("tenant"),
        other => other.into(),
    }
}
