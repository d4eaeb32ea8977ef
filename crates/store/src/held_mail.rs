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

/// Up to 512 messages of the tenant `$1` with held waiting mail, found among the held alone;
/// SQLite, without statistics, would otherwise read the tenant's history by message.
pub(crate) fn held_messages_sql(store: &Store) -> &'static str {
    match store {
        Store::Sqlite(_) => {
            "SELECT DISTINCT message_id FROM recipients INDEXED BY recipients_held \
             WHERE tenant_id = $1 AND held AND state IN ('queued', 'deferred') LIMIT 512"
        }
        Store::Postgres(_) => {
            "SELECT DISTINCT message_id FROM recipients \
             WHERE tenant_id = $1 AND held AND state IN ('queued', 'deferred') LIMIT 512"
        }
    }
}

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

/// Where marking has got to: past the place of the last mail never tried it marked, and from the
/// due time of the last retry it marked.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct HoldCursor {
    pub(crate) placed_past: i64,
    pub(crate) due_from: i64,
}

impl HoldCursor {
    /// Moves on past the rows a batch marked: (attempts, place, due time) each.
    pub(crate) fn advance(&mut self, marked: &[(i64, i64, i64)]) {
        for (attempts, place, due) in marked {
            if *attempts == 0 {
                self.placed_past = self.placed_past.max(*place);
            } else {
                self.due_from = self.due_from.max(*due);
            }
        }
    }
}

/// Runs one batch of marking ([`hold_batch_sql`], `$sql`) in `$transaction` from `$cursor`, and
/// moves the cursor on; gives the rows it marked.
macro_rules! mark_batch {
    ($transaction:expr, $sql:expr, $tenant:expr, $batch:expr, $cursor:expr) => {{
        let cursor: &mut crate::held_mail::HoldCursor = $cursor;
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe($sql.clone()))
            .bind($tenant)
            .bind($batch)
            .bind(cursor.placed_past)
            .bind(cursor.due_from)
            .fetch_all(&mut *$transaction)
            .await?;
        cursor.advance(&rows);
        rows
    }};
}
pub(crate) use mark_batch;

/// Inside a resume's transaction `$transaction`, with the tenant still paused in it: marks what
/// waits unmarked (in flight at the pause and back since, or left by marking cut short), so that
/// every message with waiting mail has held mail; then, a step at a time, moves the expiry of up
/// to 512 messages with held waiting mail on by `$held_for` seconds and releases their held
/// mail, so each message is extended exactly once and no statement grows with the backlog; last
/// it releases what is held of mail no longer waiting (cancelled during the pause). The caller
/// clears the pause in the same transaction, so what it marks is never left held.
macro_rules! release_and_extend {
    ($transaction:expr, $store:expr, $tenant:expr, $held_for:expr) => {{
        let sql = crate::held_mail::hold_batch_sql($store);
        let mut cursor = crate::held_mail::HoldCursor::default();
        let batch = crate::held_mail::HOLD_BATCH;
        while !crate::held_mail::mark_batch!($transaction, sql, $tenant, batch, &mut cursor)
            .is_empty()
        {}
        loop {
            let messages: Vec<sealpost_domain::MessageId> =
                sqlx::query_scalar(crate::held_mail::held_messages_sql($store))
                    .bind($tenant)
                    .fetch_all(&mut *$transaction)
                    .await?;
            if messages.is_empty() {
                break;
            }
            let list = crate::paging::placeholders(2, messages.len().next_power_of_two());
            let extend =
                format!("UPDATE messages SET expires_at = expires_at + $1 WHERE id IN ({list})");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(extend)).bind($held_for);
            for message in crate::paging::padded(&messages) {
                query = query.bind(message);
            }
            query.execute(&mut *$transaction).await?;
            let release = format!(
                "UPDATE recipients SET held = FALSE WHERE tenant_id = $1 AND held \
                 AND message_id IN ({list})"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(release)).bind($tenant);
            for message in crate::paging::padded(&messages) {
                query = query.bind(message);
            }
            query.execute(&mut *$transaction).await?;
        }
        loop {
            let released = sqlx::query(crate::held_mail::RELEASE_SQL)
                .bind($tenant)
                .bind(crate::held_mail::HOLD_BATCH)
                .execute(&mut *$transaction)
                .await?
                .rows_affected();
            if released == 0 {
                break;
            }
        }
    }};
}
pub(crate) use release_and_extend;

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
        let mut cursor = HoldCursor::default();
        let mut marked = 0;
        loop {
            let batch_marked = with_writer!(self, pool => {
                let mut transaction = pool.begin_write().await?;
                if postgres {
                    sqlx::query(PAUSE_LOCK_SHARED_SQL)
                        .bind(tenant)
                        .execute(&mut *transaction)
                        .await?;
                }
                let rows = mark_batch!(transaction, sql, tenant, batch, &mut cursor);
                transaction.commit().await?;
                rows.len() as u64
            });
            if batch_marked == 0 {
                return Ok(marked);
            }
            marked += batch_marked;
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
