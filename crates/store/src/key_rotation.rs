//! Automatic DKIM key rotation (migration 0025): the tenant's period in its row, the domains
//! whose active key has signed longer than that, and the time before which a domain whose
//! rotation failed is not tried again.

use sealpost_domain::{
    KeyAlgorithm, KeyRotation, RotationPeriod, SigningDomainId, TenantId, Timestamp,
};

use crate::{Store, StoreError, with_reader, with_writer};

/// One domain's key that is due for rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationCandidate {
    pub tenant: TenantId,
    pub domain: SigningDomainId,
    pub algorithm: KeyAlgorithm,
    pub period: RotationPeriod,
}

/// The active keys due for rotation (see [`Store::rotation_candidates`]). A domain's keys are
/// its tenant's, and the check for a rotation under way names the tenant too, so that SQLite
/// looks the domain's keys up through the index by tenant and domain: without it, it read every
/// key of every tenant for each active key (15 s at 20,000 keys, every 20 s).
pub(crate) const ROTATION_CANDIDATES_SQL: &str = "SELECT d.tenant_id, d.id, k.algorithm, \
     t.dkim_rotation_days \
     FROM signing_domains d \
     JOIN tenants t ON t.id = d.tenant_id \
     JOIN signing_keys k ON k.signing_domain_id = d.id AND k.state = 'active' \
     WHERE t.dkim_rotation_days IS NOT NULL AND t.deleting_since IS NULL \
     AND d.active = TRUE \
     AND k.state_since + t.dkim_rotation_days * 86400 <= $1 \
     AND (d.rotation_retry_at IS NULL OR d.rotation_retry_at <= $1) \
     AND NOT EXISTS (SELECT 1 FROM signing_keys p \
         WHERE p.tenant_id = d.tenant_id AND p.signing_domain_id = d.id \
         AND p.state IN ('pending', 'retiring') AND p.algorithm = k.algorithm) \
     ORDER BY k.state_since, d.id, k.algorithm LIMIT $2";

impl Store {
    /// The tenant's rotation setting; `NotFound` for an unknown tenant.
    pub async fn key_rotation(&self, tenant: TenantId) -> Result<KeyRotation, StoreError> {
        let row: Option<(Option<i64>,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT dkim_rotation_days FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(pool)
                .await?
        });
        let (days,) = row.ok_or(StoreError::NotFound)?;
        match days {
            None => Ok(KeyRotation::Off),
            Some(days) => RotationPeriod::from_days(days)
                .map(KeyRotation::Every)
                .map_err(|error| StoreError::Corrupt(format!("tenant rotation: {error}"))),
        }
    }

    /// Saves the tenant's rotation setting; `NotFound` for an unknown tenant.
    pub async fn set_key_rotation(
        &self,
        tenant: TenantId,
        rotation: KeyRotation,
    ) -> Result<(), StoreError> {
        let days = rotation.period().map(|period| i64::from(period.days()));
        let updated = with_writer!(self, pool => {
            sqlx::query("UPDATE tenants SET dkim_rotation_days = $1 WHERE id = $2")
                .bind(days)
                .bind(tenant)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Up to `limit` keys due for rotation at `now`, across tenants (the scheduled rotation is
    /// the platform's work, like the re-check): the active key of an active domain of a tenant
    /// with rotation on that has signed for the tenant's period, whose algorithm has no pending
    /// key and no retiring one (one rotation at a time, as `rotations_due` decides), of a domain
    /// not waiting to be tried again. The longest-signing keys come first.
    pub async fn rotation_candidates(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<RotationCandidate>, StoreError> {
        let rows: Vec<(TenantId, SigningDomainId, String, i64)> = with_reader!(self, pool => {
            sqlx::query_as(ROTATION_CANDIDATES_SQL)
            .bind(now.0)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(tenant, domain, algorithm, days)| {
                let corrupt = |what: String| StoreError::Corrupt(format!("rotation: {what}"));
                Ok(RotationCandidate {
                    tenant,
                    domain,
                    algorithm: KeyAlgorithm::parse(&algorithm)
                        .ok_or_else(|| corrupt(format!("algorithm {algorithm:?}")))?,
                    period: RotationPeriod::from_days(days)
                        .map_err(|error| corrupt(error.to_string()))?,
                })
            })
            .collect()
    }

    /// Puts the domain's next rotation attempt off until `until` (after a failure).
    pub async fn postpone_rotation(
        &self,
        tenant: TenantId,
        domain: SigningDomainId,
        until: Timestamp,
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query(
                "UPDATE signing_domains SET rotation_retry_at = $1 \
                 WHERE tenant_id = $2 AND id = $3",
            )
            .bind(until.0)
            .bind(tenant)
            .bind(domain)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
