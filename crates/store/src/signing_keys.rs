//! A signing domain's keys and every change of state of a domain or a key. The sealed key
//! columns are written by [`Store::insert_signing_key`] and read only by [`Store::sealed_key`];
//! nothing else selects them. [`Store::apply_domain_changes`] is the one writer of key states,
//! the active flag and the DNS status, and it commits each change with its event.

use sealpost_domain::{
    Activation, DomainChanges, DomainEvent, DomainName, KeyId, SealedKey, Selector, SigningDomain,
    SigningDomainId, SigningKey, TenantId, Timestamp, Uuid,
};

use crate::domain_records::replace_domain_records;
use crate::{Store, StoreError, with_reader, with_writer};

/// One row of a domain's history, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DomainEventRecord {
    pub key_id: Option<KeyId>,
    pub kind: String,
    pub warning: bool,
    pub detail: String,
    pub at: i64,
}

/// Inserts one event in the transaction at hand. A macro, because each backend's transaction is
/// its own type.
macro_rules! insert_domain_event {
    ($transaction:expr, $id:expr, $tenant:expr, $domain:expr, $event:expr, $at:expr) => {{
        let domain: SigningDomainId = $domain;
        let at: Timestamp = $at;
        let inserted = sqlx::query(
            "INSERT INTO signing_domain_events \
             (id, tenant_id, signing_domain_id, key_id, kind, warning, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($id.hyphenated().to_string())
        .bind($tenant)
        .bind(domain)
        .bind($event.key())
        .bind($event.kind())
        .bind($event.is_warning())
        .bind($event.describe())
        .bind(at.0)
        .execute(&mut *$transaction)
        .await;
        match inserted {
            Err(error) => Err(error),
            Ok(_) => crate::webhooks::insert_outbox!(
                $transaction,
                $tenant,
                $event.kind(),
                domain.to_string(),
                None,
                None,
                Some(domain),
                $event.describe(),
                at
            ),
        }
    }};
}

impl Store {
    /// Adds a pending key to a domain with its `key.pending` event (`event_id`), in one
    /// transaction. `Duplicate` when the domain already has a key under the selector,
    /// `NotFound` when the domain is not the tenant's.
    pub async fn insert_signing_key(
        &self,
        tenant: TenantId,
        domain: SigningDomainId,
        key: &SigningKey,
        sealed: &SealedKey,
        event_id: Uuid,
    ) -> Result<(), StoreError> {
        self.insert_signing_key_noted(tenant, domain, key, sealed, event_id, None)
            .await
    }

    /// [`Store::insert_signing_key`] with a second event after `key.pending` in the same
    /// transaction (an automatic rotation's `key.rotation_started`, with its id).
    pub async fn insert_signing_key_noted(
        &self,
        tenant: TenantId,
        domain: SigningDomainId,
        key: &SigningKey,
        sealed: &SealedKey,
        event_id: Uuid,
        notice: Option<(Uuid, &DomainEvent)>,
    ) -> Result<(), StoreError> {
        let event = DomainEvent::KeyAdded {
            key: key.id,
            selector: key.selector.clone(),
        };
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let bumped = sqlx::query(
                "UPDATE signing_domains SET version = version + 1, updated_at = $1 \
                 WHERE tenant_id = $2 AND id = $3",
            )
            .bind(key.created_at.0)
            .bind(tenant)
            .bind(domain)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if bumped == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO signing_keys (id, tenant_id, signing_domain_id, selector, state, \
                 state_since, forced, public_der, bits, origin, created_at, encrypted_pkcs8, \
                 sealed_password, algorithm) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(key.id)
            .bind(tenant)
            .bind(domain)
            .bind(key.selector.as_str())
            .bind(key.state.as_str())
            .bind(key.state_since.0)
            .bind(key.forced)
            .bind(&key.public_key_der)
            .bind(i64::from(key.bits))
            .bind(key.origin.as_str())
            .bind(key.created_at.0)
            .bind(&sealed.encrypted_pkcs8_pem)
            .bind(&sealed.sealed_password)
            .bind(key.algorithm.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(|error| StoreError::duplicate_as(error, "a key under this selector"))?;
            insert_domain_event!(transaction, event_id, tenant, domain, event, key.created_at)?;
            if let Some((notice_id, notice)) = notice {
                insert_domain_event!(
                    transaction, notice_id, tenant, domain, notice, key.created_at
                )?;
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// The sealed private key of one of the tenant's keys, for signing.
    pub async fn sealed_key(&self, tenant: TenantId, key: KeyId) -> Result<SealedKey, StoreError> {
        let row: Option<(String, Vec<u8>)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT encrypted_pkcs8, sealed_password FROM signing_keys \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant)
            .bind(key)
            .fetch_optional(pool)
            .await?
        });
        let (encrypted_pkcs8_pem, sealed_password) = row.ok_or(StoreError::NotFound)?;
        Ok(SealedKey {
            encrypted_pkcs8_pem,
            sealed_password,
        })
    }

    /// Commits `changes` to the tenant's domain `id` as they were decided from the domain at
    /// `version`, with one event per change (ids from `event_ids`, in the order of
    /// [`DomainChanges::events`]), in one transaction. `Changed` when the domain changed since it
    /// was read (another node or request was first): nothing is written then.
    pub async fn apply_domain_changes(
        &self,
        current: &SigningDomain,
        changes: &DomainChanges,
        event_ids: &[Uuid],
        now: Timestamp,
    ) -> Result<SigningDomain, StoreError> {
        let (tenant, id) = (current.tenant_id, current.id);
        let events = changes.events();
        assert_eq!(events.len(), event_ids.len(), "one id per event");
        let active = changes
            .activation
            .map(|activation| matches!(activation, Activation::On { .. }));
        let dns = changes.dns.as_ref().map(|(status, _)| status);
        let last = dns.and_then(|status| status.last_check.as_ref());
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let bumped = sqlx::query(
                "UPDATE signing_domains SET version = version + 1, updated_at = $1 \
                 WHERE tenant_id = $2 AND id = $3 AND version = $4",
            )
            .bind(now.0)
            .bind(tenant)
            .bind(id)
            .bind(current.version)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if bumped == 0 {
                return Err(StoreError::Changed("the signing domain changed meanwhile"));
            }
            for change in &changes.keys {
                let moved = sqlx::query(
                    "UPDATE signing_keys SET state = $1, state_since = $2, forced = $3 \
                     WHERE tenant_id = $4 AND signing_domain_id = $5 AND id = $6 AND state = $7",
                )
                .bind(change.to.as_str())
                .bind(now.0)
                .bind(change.forced)
                .bind(tenant)
                .bind(id)
                .bind(change.key)
                .bind(change.from.as_str())
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                if moved != 1 {
                    return Err(StoreError::Changed("a key of the domain changed meanwhile"));
                }
            }
            sqlx::query(
                "UPDATE signing_domains SET active = COALESCE($1, active), active_key_id = \
                 (SELECT id FROM signing_keys WHERE signing_domain_id = $2 AND state = 'active' \
                  AND algorithm = 'rsa'), \
                 dns_state = COALESCE($3, dns_state), \
                 dns_state_since = COALESCE($4, dns_state_since), \
                 dns_failing_since = CASE WHEN $5 THEN $6 ELSE dns_failing_since END, \
                 dns_checked_at = COALESCE($7, dns_checked_at), \
                 dns_check_outcome = COALESCE($8, dns_check_outcome), \
                 dns_check_summary = COALESCE($9, dns_check_summary), \
                 dns_next_check_at = COALESCE($10, dns_next_check_at) \
                 WHERE tenant_id = $11 AND id = $2",
            )
            .bind(active)
            .bind(id)
            .bind(dns.map(|status| status.state.as_str()))
            .bind(dns.map(|status| status.since.0))
            .bind(dns.is_some())
            .bind(dns.and_then(|status| status.failing_since).map(|at| at.0))
            .bind(last.map(|check| check.at.0))
            .bind(last.map(|check| check.outcome.as_str()))
            .bind(last.map(|check| check.summary.clone()))
            .bind(dns.map(|status| status.next_check_at.0))
            .bind(tenant)
            .execute(&mut *transaction)
            .await?;
            if let Some((findings, _)) = &changes.records {
                replace_domain_records!(transaction, tenant, id, findings)?;
            }
            for (event, event_id) in events.iter().zip(event_ids) {
                insert_domain_event!(transaction, event_id, tenant, id, event, now)?;
            }
            transaction.commit().await?;
        });
        self.signing_domain(tenant, id).await
    }

    /// The newest `limit` events of a domain, newest first.
    pub async fn domain_events(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
        limit: i64,
    ) -> Result<Vec<DomainEventRecord>, StoreError> {
        Ok(with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT key_id, kind, warning, detail, at FROM signing_domain_events \
                 WHERE tenant_id = $1 AND signing_domain_id = $2 ORDER BY at DESC, id DESC LIMIT $3",
            )
            .bind(tenant)
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The queue's account of the tenant's messages signed by `domain` under `selector` (any
    /// selector when `None`) and accepted from `accepted_since` to `accepted_until`: how many
    /// recipients still wait for delivery, and when the last finished recipient finished.
    /// Messages record the selector of their RSA signature only, so an Ed25519 key, which
    /// signed beside whichever RSA key was active, is drained with `None`.
    pub async fn key_drain(
        &self,
        tenant: TenantId,
        domain: &DomainName,
        selector: Option<&Selector>,
        accepted_since: Timestamp,
        accepted_until: Timestamp,
    ) -> Result<(u64, Option<Timestamp>), StoreError> {
        let (unfinished, last): (i64, Option<i64>) = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(CASE WHEN r.state IN ('queued', 'sending', 'deferred') THEN 1 END), \
                 MAX(CASE WHEN r.state NOT IN ('queued', 'sending', 'deferred') \
                     THEN r.updated_at END) \
                 FROM messages m JOIN recipients r ON r.message_id = m.id \
                 WHERE m.tenant_id = $1 AND m.accepted_at >= $2 AND m.accepted_at <= $5 \
                 AND m.signed = TRUE AND m.signing_domain = $3 \
                 AND ($4 IS NULL OR m.signing_selector = $4)",
            )
            .bind(tenant)
            .bind(accepted_since.0)
            .bind(domain.as_str())
            .bind(selector.map(Selector::as_str))
            .bind(accepted_until.0)
            .fetch_one(pool)
            .await?
        });
        Ok((unfinished.max(0) as u64, last.map(Timestamp)))
    }
}
