//! Deleting a tenant (SPEC S11.5): its sealed secrets are shredded first, then every row of it
//! goes. The two phases are separate commits, so a crash between them leaves a tenant whose
//! keys cannot be opened and whose credentials no longer work; such a tenant is marked by
//! `deleting_since` and its deletion is finished by [`Store::finish_tenant_deletions`] (run at
//! every start) or by deleting it again.

use sealpost_domain::{TenantId, Timestamp};

use crate::write_transaction::BeginWrite;
use crate::{Store, StoreError, with_reader, with_writer};

/// Phase one after the tenant is marked: every sealed value of the tenant is overwritten (an
/// empty sealed value opens nothing), and its API keys, users and sessions are removed, so
/// nothing of the tenant can be opened or signed in to from this commit on.
const SHRED: &[&str] = &[
    "UPDATE signing_keys SET encrypted_pkcs8 = '', sealed_password = $2 WHERE tenant_id = $1",
    "UPDATE delivery_settings SET sealed_password = NULL WHERE tenant_id = $1",
    "UPDATE webhook_endpoints SET secret_sealed = $2, previous_secret_sealed = NULL, \
     previous_until = NULL WHERE tenant_id = $1",
];

/// Credentials go in phase one too: a tenant being deleted must not be reachable any more.
const REVOKE: &[&str] = &[
    "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE tenant_id = $1)",
    "DELETE FROM users WHERE tenant_id = $1",
    "DELETE FROM api_keys WHERE tenant_id = $1",
];

/// Phase two: every table holding the tenant's rows, children before their parents, so no
/// statement depends on a cascade (or on SQLite's foreign-key setting). The one exception is
/// PostgreSQL's `sending_versions`, which SQLite lacks: its row goes with the tenant's by
/// cascade. A table added to the schema must be added here; the store test that scans every
/// table fails until it is. Webhook deliveries and message sources are found through their
/// parents (an endpoint, a message), which are indexed by tenant: their own `tenant_id` is not
/// indexed, and a delete by it read every delivery and every source of every tenant.
pub(crate) const PURGE: &[&str] = &[
    "DELETE FROM webhook_attempts WHERE endpoint_id IN \
     (SELECT id FROM webhook_endpoints WHERE tenant_id = $1)",
    "DELETE FROM webhook_outbox WHERE endpoint_id IN \
     (SELECT id FROM webhook_endpoints WHERE tenant_id = $1)",
    "DELETE FROM webhook_endpoints WHERE tenant_id = $1",
    "DELETE FROM events WHERE tenant_id = $1",
    "DELETE FROM attempts WHERE tenant_id = $1",
    "DELETE FROM mailing_recipients WHERE mailing_id IN \
     (SELECT id FROM mailings WHERE tenant_id = $1)",
    "DELETE FROM mailings WHERE tenant_id = $1",
    "DELETE FROM checker_reports WHERE tenant_id = $1",
    "DELETE FROM checker_addresses WHERE tenant_id = $1",
    "DELETE FROM recipients WHERE tenant_id = $1",
    "DELETE FROM sending_counts WHERE tenant_id = $1",
    "DELETE FROM message_sources WHERE message_id IN \
     (SELECT id FROM messages WHERE tenant_id = $1)",
    "DELETE FROM messages WHERE tenant_id = $1",
    "DELETE FROM contacts WHERE tenant_id = $1",
    "DELETE FROM suppressions WHERE tenant_id = $1",
    "DELETE FROM return_paths WHERE tenant_id = $1",
    "DELETE FROM sending_domains WHERE tenant_id = $1",
    "DELETE FROM delivery_settings WHERE tenant_id = $1",
    "DELETE FROM signing_domain_events WHERE tenant_id = $1",
    "DELETE FROM signing_domain_records WHERE tenant_id = $1",
    "DELETE FROM signing_keys WHERE tenant_id = $1",
    "DELETE FROM signing_domains WHERE tenant_id = $1",
    "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE tenant_id = $1)",
    "DELETE FROM users WHERE tenant_id = $1",
    "DELETE FROM api_keys WHERE tenant_id = $1",
    "DELETE FROM tenant_pauses WHERE tenant_id = $1",
    "DELETE FROM tenants WHERE id = $1",
];

/// What an operator is told a deletion would take: the rows' names (one, several) and table.
const FOOTPRINT: &[(&str, &str, &str)] = &[
    ("signing domain", "signing domains", "signing_domains"),
    ("signing key", "signing keys", "signing_keys"),
    ("message", "messages", "messages"),
    ("contact", "contacts", "contacts"),
    ("mailing", "mailings", "mailings"),
    ("UI account", "UI accounts", "users"),
    ("API key", "API keys", "api_keys"),
    ("webhook endpoint", "webhook endpoints", "webhook_endpoints"),
    ("suppression", "suppressions", "suppressions"),
];

impl Store {
    /// How many rows of each kind the tenant has, for the confirmation before a deletion: "3
    /// messages", "1 UI account", one text per kind with its count.
    pub async fn tenant_footprint(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut counts = Vec::with_capacity(FOOTPRINT.len());
        for (one, several, table) in FOOTPRINT {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = $1");
            let count: i64 = with_reader!(self, pool => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(tenant)
                    .fetch_one(pool)
                    .await?
            });
            let label = if count == 1 { one } else { several };
            counts.push((format!("{count} {label}"), count));
        }
        Ok(counts)
    }

    /// Deletes the tenant and everything of it, shredding its sealed secrets first. Deleting a
    /// tenant whose earlier deletion was interrupted finishes it. `NotFound` for an unknown
    /// tenant.
    pub async fn delete_tenant(&self, tenant: TenantId, now: Timestamp) -> Result<(), StoreError> {
        self.shred_tenant(tenant, now).await?;
        self.purge_tenant(tenant).await
    }

    /// Finishes every deletion a crash interrupted after its first phase; returns the tenants
    /// it finished. Called whenever the service opens the store.
    pub async fn finish_tenant_deletions(&self) -> Result<Vec<TenantId>, StoreError> {
        let pending: Vec<(TenantId,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT id FROM tenants WHERE deleting_since IS NOT NULL ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        let mut finished = Vec::with_capacity(pending.len());
        for (tenant,) in pending {
            self.purge_tenant(tenant).await?;
            finished.push(tenant);
        }
        Ok(finished)
    }

    /// Phase one, one transaction: overwrites the tenant's sealed secrets, removes its
    /// credentials and marks it as being deleted; an unknown tenant changes nothing. The mark
    /// comes last: on PostgreSQL the shredded keys raise the tenant's sending version and the
    /// mark the DKIM zone's version, both at commit in that order, the order every other
    /// transaction takes them in (migration 0035). Public so that tests can stop after it, as a
    /// crash would.
    pub async fn shred_tenant(&self, tenant: TenantId, now: Timestamp) -> Result<(), StoreError> {
        let empty: &[u8] = &[];
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            for statement in SHRED {
                sqlx::query(*statement)
                    .bind(tenant)
                    .bind(empty)
                    .execute(&mut *transaction)
                    .await?;
            }
            for statement in REVOKE {
                sqlx::query(*statement)
                    .bind(tenant)
                    .execute(&mut *transaction)
                    .await?;
            }
            let marked = sqlx::query(
                "UPDATE tenants SET deleting_since = COALESCE(deleting_since, $2) WHERE id = $1",
            )
            .bind(tenant)
            .bind(now.0)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if marked == 0 {
                return Err(StoreError::NotFound);
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// Phase two, one transaction: deletes every row of a tenant marked by phase one. A tenant
    /// that is not marked is refused, so no caller can skip the shredding; one that is gone
    /// already is done.
    ///
    /// On PostgreSQL the purge first locks the tenant's recipients. An outcome or a report of
    /// mail still in flight locks its recipient before it writes its attempt, event, webhook
    /// delivery and counts; the purge then waits for it to commit before it deletes anything, and
    /// deletes what it wrote. Deleting first would leave those rows behind (the purge's earlier
    /// deletes do not see them), or deadlock when the outcome's webhook delivery waited for the
    /// endpoint the purge had deleted while the purge waited for the recipient. Before that it
    /// takes the tenant's pause lock (`held_mail.rs`). On SQLite the purge takes the one write
    /// lock first.
    pub(crate) async fn purge_tenant(&self, tenant: TenantId) -> Result<(), StoreError> {
        let lock_recipients = match self {
            Store::Postgres(_) => Some("SELECT id FROM recipients WHERE tenant_id = $1 FOR UPDATE"),
            Store::Sqlite(_) => None,
        };
        with_writer!(self, pool => {
            let mut transaction = pool.begin_write().await?;
            let marked: Option<(Option<i64>,)> =
                sqlx::query_as("SELECT deleting_since FROM tenants WHERE id = $1")
                    .bind(tenant)
                    .fetch_optional(&mut *transaction)
                    .await?;
            match marked {
                // Another node finished it first (two nodes starting at once, or a delete
                // racing a start): the tenant is gone, which is what was asked.
                None => return Ok(()),
                Some((None,)) => return Err(StoreError::Changed("the tenant is not being deleted")),
                Some((Some(_),)) => {}
            }
            if let Some(lock) = lock_recipients {
                // A pause's marking of the tenant's mail, which locks recipients too, is let
                // finish first; later batches see the deletion and mark nothing.
                for statement in [crate::held_mail::PAUSE_LOCK_SQL, lock] {
                    sqlx::query(statement).bind(tenant).execute(&mut *transaction).await?;
                }
            }
            for statement in PURGE {
                sqlx::query(*statement)
                    .bind(tenant)
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
        });
        self.checkpoint_after_deletion().await;
        Ok(())
    }

    /// SQLite overwrites deleted content with zeros (`secure_delete`, set on every connection),
    /// but the write-ahead log still holds earlier images of the changed pages until a
    /// checkpoint; truncating it leaves no copy of the tenant's rows in the log. This is best
    /// effort: a checkpoint that readers block is retried by SQLite's own automatic
    /// checkpoints, and the deletion itself has already committed. PostgreSQL keeps dead tuples
    /// until VACUUM, which the operator's routine maintenance runs.
    async fn checkpoint_after_deletion(&self) {
        if let Store::Sqlite(pools) = self
            && let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pools.writer())
                .await
        {
            tracing::warn!(%error, "checkpoint after a tenant deletion failed");
        }
    }
}
