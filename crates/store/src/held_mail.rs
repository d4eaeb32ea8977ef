//! Held mail (SPEC S10.5, migration 0037): a paused tenant's waiting mail is marked held, which
//! keeps it out of the claim's indexes, so no claim reads it while the pause lasts. Pausing
//! marks it and resuming releases it (`reputation.rs`); mail accepted while the tenant is paused
//! is held from the start (`acceptance.rs`).
//!
//! What must never happen is a recipient held while its tenant is not paused: its mail would
//! never go. Marking is therefore only ever an optimisation of the claim, which checks the
//! tenant's pause as well, and mail of a paused tenant that is not marked (in flight at the
//! pause, accepted on PostgreSQL as the pause commits, or not marked yet) is merely read past.
//!
//! Marking goes in batches of their own transactions after the pause commits, each only while
//! the tenant is still paused and not being deleted, so that a pause in front of a million
//! waiting messages is not one statement that runs into the statement timeout. Releasing happens
//! in the resume's own transaction, in steps of bounded statements, and must see every held
//! recipient. On PostgreSQL a batch of marking takes the tenant's pause lock shared and then
//! reads the pause anew; an acceptance that read its tenant as paused tries to take it, and
//! marks nothing when a resume holds it; a resume and a purge take it exclusively first. So they
//! are ordered as SQLite's write lock orders them, and no acceptance ever waits for a resume.
//! The lock is an advisory one rather than a lock on the tenant's row: new shared requests queue
//! behind a waiting resume, where a busy tenant's row locks could starve it. Each start releases
//! any held recipient of a tenant not paused, whatever put it there, and marks what a pause left
//! unmarked.

use sealpost_domain::TenantId;

use crate::write_transaction::BeginWrite;
use crate::{Store, StoreError, with_writer};

/// How many waiting recipients of each kind (never tried, retries) a batch of marking takes.
const HOLD_BATCH: i64 = 5_000;

/// The messages of up to `$3` held recipients of the tenant `$1` that come after the message
/// `$2`, in the order of their ids, read from the front of the index of held mail by tenant and
/// message (migration 0038), so a step reads no more than it takes and nothing an earlier step
/// released. SQLite, without statistics, is told the index.
pub(crate) fn held_messages_sql(store: &Store) -> &'static str {
    match store {
        Store::Sqlite(_) => {
            "SELECT message_id FROM recipients INDEXED BY recipients_held \
             WHERE tenant_id = $1 AND held AND message_id > $2 ORDER BY message_id LIMIT $3"
        }
        Store::Postgres(_) => {
            "SELECT message_id FROM recipients \
             WHERE tenant_id = $1 AND held AND message_id > $2 ORDER BY message_id LIMIT $3"
        }
    }
}

/// How many held recipients one step of a resume reads.
pub(crate) const RELEASE_STEP: i64 = 512;

/// Releases the tenant `$tenant`'s held mail inside a resume's transaction `$transaction`, a step
/// at a time from the last message released: each step reads the messages of [`RELEASE_STEP`]
/// held recipients ([`held_messages_sql`]) and releases those messages' held mail by tenant and
/// message. Every statement is bounded, however much mail the pause held, and well inside the
/// statement timeout.
macro_rules! release_held {
    ($transaction:expr, $store:expr, $tenant:expr) => {{
        let mut after = String::new();
        loop {
            let mut messages: Vec<String> =
                sqlx::query_scalar(crate::held_mail::held_messages_sql($store))
                    .bind($tenant)
                    .bind(&after)
                    .bind(crate::held_mail::RELEASE_STEP)
                    .fetch_all(&mut *$transaction)
                    .await?;
            messages.dedup();
            let Some(last) = messages.last().cloned() else {
                break;
            };
            let list = crate::paging::placeholders(2, messages.len().next_power_of_two());
            let release = format!(
                "UPDATE recipients SET held = FALSE \
                 WHERE tenant_id = $1 AND held AND message_id IN ({list})"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(release)).bind($tenant);
            for message in
                crate::paging::padded(&messages.iter().map(String::as_str).collect::<Vec<_>>())
            {
                query = query.bind(message);
            }
            query.execute(&mut *$transaction).await?;
            after = last;
        }
    }};
}
pub(crate) use release_held;

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

/// Marks up to `$2` of the tenant `$1`'s waiting mail never tried, placed at `$3` or later (places
/// can repeat, and marked mail leaves the index, so the last place is read again), and as many
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
         AND attempts = 0 AND NOT held AND fair_key >= $3 AND tenant_id = $1 \
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
