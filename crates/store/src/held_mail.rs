//! Held mail (SPEC S10.5, migration 0037): a paused tenant's waiting mail is marked held, which
//! keeps it out of the claim's indexes, so no claim reads it while the pause lasts. Pausing
//! marks it and resuming releases it (`reputation.rs`); mail accepted while the tenant is paused
//! is held from the start (`acceptance.rs`).
//!
//! What must never happen is a recipient held while its tenant is not paused: its mail would
//! never go. Marking is therefore only ever an optimisation of the claim, which checks the
//! tenant's pause as well, and mail of a paused tenant that is not marked (in flight at the
//! pause, accepted on PostgreSQL as the pause commits, or not marked yet) is merely read past.
//! Marking goes in batches of their own transactions after the pause commits, each only while
//! the tenant is still paused, so that a pause in front of a million waiting messages is not one
//! statement that runs into the statement timeout. Releasing happens in the resume's own
//! transaction and must see every held recipient: on PostgreSQL an acceptance that read its
//! tenant as paused, and a batch of marking, each take the tenant's pause lock shared and then
//! read the pause anew, and a resume takes it exclusively first, so they are ordered as SQLite's
//! write lock orders them. The lock is an advisory one rather than a lock on the tenant's row:
//! new shared requests queue behind a waiting resume, where a busy tenant's row locks could
//! starve it. Each start releases any held recipient of a tenant not paused, whatever put it
//! there, and marks what a pause left unmarked.

use sealpost_domain::TenantId;

use crate::write_transaction::BeginWrite;
use crate::{Store, StoreError, with_writer};

/// How many waiting recipients of each kind (never tried, retries) a batch of marking takes, and
/// how many held recipients a statement of a resume releases.
pub(crate) const HOLD_BATCH: i64 = 5_000;

/// Releases up to `$2` of the tenant `$1`'s held mail, found among the held alone. A resume
/// repeats it in its transaction until none is left: statements of a bounded size, each well
/// inside the statement timeout however much mail the pause held.
pub(crate) const RELEASE_SQL: &str = "UPDATE recipients SET held = FALSE WHERE id IN \
     (SELECT id FROM recipients WHERE tenant_id = $1 AND held LIMIT $2)";

/// PostgreSQL: the tenant `$1`'s pause lock, exclusive, held until the transaction ends.
pub(crate) const PAUSE_LOCK_SQL: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('sealpost pause ' || $1, 0))";

/// PostgreSQL: the tenant `$1`'s pause lock, shared, held until the transaction ends.
pub(crate) const PAUSE_LOCK_SHARED_SQL: &str =
    "SELECT pg_advisory_xact_lock_shared(hashtextextended('sealpost pause ' || $1, 0))";

/// PostgreSQL: the tenant `$1`'s pause lock, shared, if no resume holds it; whether it was
/// taken.
pub(crate) const TRY_PAUSE_LOCK_SHARED_SQL: &str =
    "SELECT pg_try_advisory_xact_lock_shared(hashtextextended('sealpost pause ' || $1, 0))";

/// Whether the tenant `$1` is paused. Read under the pause lock, it must be a statement of its
/// own after the lock's: a statement reads what was committed when it began, and so would not
/// see the resume it waited for.
pub(crate) const PAUSED_SQL: &str =
    "SELECT sending_paused_at IS NOT NULL FROM tenants WHERE id = $1";

/// Marks up to `$2` of the tenant `$1`'s waiting mail never tried, placed past `$3`, and as many
/// of its retries, due at `$4` or later, held, if the tenant is paused and not being deleted, and
/// returns what it marked. They are found through the claim's own indexes, which hold only mail
/// not held, from where the last batch ended: a pause reads the waiting mail in front of its
/// tenant's once, not once a batch. The outer condition repeats the inner one, which PostgreSQL
/// checks again on a row a claim took meanwhile, so mail in flight is never marked.
pub(crate) fn hold_batch_sql(store: &Store) -> String {
    let (fresh, retries) = match store {
        Store::Sqlite(_) => (
            " INDEXED BY recipients_claim_new",
            " INDEXED BY recipients_claim_retry",
        ),
        Store::Postgres(_) => ("", ""),
    };
    format!(
        "UPDATE recipients SET held = TRUE WHERE id IN (\
         SELECT id FROM (SELECT id FROM recipients{fresh} WHERE state IN ('queued', 'deferred') \
         AND attempts = 0 AND NOT held AND fair_key > $3 AND tenant_id = $1 \
         ORDER BY fair_key LIMIT $2) AS fresh \
         UNION ALL \
         SELECT id FROM (SELECT id FROM recipients{retries} WHERE state IN ('queued', 'deferred') \
         AND attempts <> 0 AND NOT held AND COALESCE(next_attempt_at, 0) >= $4 \
         AND tenant_id = $1 ORDER BY COALESCE(next_attempt_at, 0) LIMIT $2) AS retries) \
         AND state IN ('queued', 'deferred') AND NOT held \
         AND EXISTS (SELECT 1 FROM tenants WHERE id = $1 \
         AND sending_paused_at IS NOT NULL AND deleting_since IS NULL) \
         RETURNING attempts, fair_key, COALESCE(next_attempt_at, 0)"
    )
}

impl Store {
    /// Marks the tenant's waiting mail held, a batch at a time, for as long as it is paused;
    /// returns how many were marked. Marking only spares claims reading the paused tenant's
    /// mail, so a caller may go on when it fails.
    pub async fn hold_waiting_mail(&self, tenant: TenantId) -> Result<u64, StoreError> {
        self.hold_waiting_mail_in_batches(tenant, HOLD_BATCH).await
    }

    pub(crate) async fn hold_waiting_mail_in_batches(
        &self,
        tenant: TenantId,
        batch: i64,
    ) -> Result<u64, StoreError> {
        let sql = hold_batch_sql(self);
        let postgres = matches!(self, Store::Postgres(_));
        // Where the last batch ended: the place of the last mail never tried, and the due time
        // of the last retry.
        let (mut placed_past, mut due_from) = (0i64, 0i64);
        let mut marked = 0;
        loop {
            let rows: Vec<(i64, i64, i64)> = with_writer!(self, pool => {
                let mut transaction = pool.begin_write().await?;
                if postgres {
                    sqlx::query(PAUSE_LOCK_SHARED_SQL)
                        .bind(tenant)
                        .execute(&mut *transaction)
                        .await?;
                }
                let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(tenant)
                    .bind(batch)
                    .bind(placed_past)
                    .bind(due_from)
                    .fetch_all(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                rows
            });
            if rows.is_empty() {
                return Ok(marked);
            }
            for (attempts, place, due) in &rows {
                if *attempts == 0 {
                    placed_past = placed_past.max(*place);
                } else {
                    due_from = due_from.max(*due);
                }
            }
            marked += rows.len() as u64;
        }
    }

    /// Marks the waiting mail of every paused tenant held, as a pause that was cut short would
    /// have; run at each start.
    pub async fn hold_paused_mail(&self) -> Result<u64, StoreError> {
        let paused: Vec<(TenantId,)> = with_writer!(self, pool => {
            sqlx::query_as(
                "SELECT id FROM tenants \
                 WHERE sending_paused_at IS NOT NULL AND deleting_since IS NULL",
            )
            .fetch_all(pool)
            .await?
        });
        let mut marked = 0;
        for (tenant,) in paused {
            marked += self.hold_waiting_mail(tenant).await?;
        }
        Ok(marked)
    }

    /// Releases every held recipient whose tenant is not paused, and returns how many. Nothing
    /// in the service holds mail so; this is run at each start as a guard against any change
    /// made by hand or by a fault that would.
    pub async fn release_stray_holds(&self) -> Result<u64, StoreError> {
        Ok(with_writer!(self, pool => {
            sqlx::query(
                "UPDATE recipients SET held = FALSE WHERE held AND tenant_id IN \
                 (SELECT id FROM tenants WHERE sending_paused_at IS NULL)",
            )
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }
}
