//! Claims: workers lease due recipients, and only the holder of a lease may record an outcome
//! for it, so a node that lost its lease never overwrites the outcome of the node that took
//! over.

use sealpost_domain::{MessageId, QueuedMessage, RecipientId, TenantId, Timestamp};
use sqlx::Sqlite;
use sqlx::pool::PoolConnection;

use crate::message_rows::{MessageRow, message_columns, message_from_rows};
use crate::paging::{LIST_CHUNK, padded, placeholders};
use crate::{Store, StoreError, with_reader, with_writer};

/// A recipient claimed for delivery. `lease_token` fences the outcome: it is recorded only if
/// the recipient is still leased under this token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub recipient_id: RecipientId,
    pub message_id: MessageId,
    pub tenant_id: TenantId,
    pub address: String,
    pub domain: String,
    pub attempts: u32,
    pub lease_token: String,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: RecipientId,
    message_id: MessageId,
    tenant_id: TenantId,
    address: String,
    domain: String,
    attempts: i64,
}

/// What was served moves on past the claimed recipients, so mail accepted from now on is placed
/// just past them (migration 0021). On SQLite it follows the claim in the same query, in a
/// commit of its own: a crash between the two only leaves the clock behind, which favours new
/// senders a little. It reads the claimed places back once, by the lease the claim has just set
/// (`$2`, `$3`), through the index of leases by their end (migration 0034).
pub(crate) const SERVED_SQLITE: &str = "UPDATE queue_clock SET served = claimed.last FROM (SELECT \
     MAX(fair_key) AS last FROM recipients INDEXED BY recipients_leases \
     WHERE state = 'sending' AND lease_until = $2 AND lease_token = $3) \
     AS claimed WHERE id = 1 AND served < claimed.last";

/// A claim need not be durable, and on either backend its commit does not wait for the disk.
/// Killing the node loses none of it: both backends have written it out by then (PostgreSQL's
/// server; SQLite's write-ahead log, in the operating system's cache). Only a crash of the
/// machine (SQLite, PostgreSQL) or of the database server or its failover to a standby
/// (PostgreSQL) loses it, and only within the moment before the next durable commit of anyone
/// (an acceptance, an outcome) writes it out with its own; PostgreSQL's WAL writer does within
/// three times `wal_writer_delay` anyway. A delivery it led to is recorded by a durable outcome,
/// which can only reach the disk after the claim. Lost with the node's machine, it only puts its
/// recipients back, to be delivered again as after a durable claim whose lease ran out. Lost
/// while the node lives on (PostgreSQL), its recipients can be claimed again while the node is
/// still delivering them, and that node's outcomes are then not recorded: a batch delivered
/// twice, the trade for not waiting for a sync per claim. A durable claim would wait for a sync
/// of its own (two on SQLite, with what was served), and on SQLite the acceptances and outcomes
/// queued behind the one writer would wait for them too.
///
/// SQLite runs the claim and what was served as `NORMAL` and then sets the connection back to
/// `FULL` (`connect.rs`), all in one hand-off to the connection's thread (see [`RelaxedWriter`]).
/// The query is prepared once and cached, yet it sets the mode on every call: SQLite applies a
/// `PRAGMA synchronous` when it prepares it and marks it to be prepared again at its next run.
const SQLITE_RELAXED: &str = "PRAGMA synchronous = NORMAL";
const SQLITE_DURABLE: &str = "PRAGMA synchronous = FULL";

/// SQLite's writer while a claim runs under `NORMAL`. Unless the claim's query ran to its end,
/// which sets the connection back to `FULL`, the connection is closed when this is dropped
/// instead of going back to the pool: when the claim failed, and when its future was dropped,
/// as sqlx then stops running the query's remaining statements. A drop cannot wait for a query
/// that would set the connection back.
struct RelaxedWriter {
    connection: PoolConnection<Sqlite>,
    restored: bool,
}

impl Drop for RelaxedWriter {
    fn drop(&mut self) {
        if !self.restored {
            self.connection.close_on_drop();
        }
    }
}

/// On PostgreSQL the claim, what was served and the relaxed commit are one statement: the
/// setting is local to the statement's own transaction, which ends with it. The setting is
/// read with each claimed row, so it is made whenever the claim leased anything (a claim that
/// leased nothing writes nothing to wait for), whether or not what was served moved.
pub(crate) fn claim_postgres(claim: &str) -> String {
    format!(
        "WITH relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)), \
         claimed AS ({claim}), \
         served AS (UPDATE queue_clock SET served = places.last \
         FROM (SELECT MAX(fair_key) AS last FROM claimed) AS places \
         WHERE id = 1 AND served < places.last) \
         SELECT id, message_id, tenant_id, address, domain, attempts FROM claimed, relaxed"
    )
}

/// The statement that leases the recipients a claim takes to `$1` until `$2` under the token
/// `$3`, and returns them. It takes those due (queued, deferred and due, or sending under an
/// expired lease, `$4` being now), at most `$5`, never tried before retries and each in the
/// order of its place in the fair queue. A paused tenant's mail is held (SPEC S10.5): it stays
/// queued and is not claimed; its waiting mail is marked held (`held_mail.rs`), which keeps it
/// out of the claim's indexes, and the tenant's pause is checked too, for its mail that is not
/// marked. A tenant being deleted (SPEC S11.5) has no mail to send any more. PostgreSQL skips
/// rows other nodes are claiming.
///
/// The due recipients are gathered in three disjoint parts, each through an index that holds
/// only what that part may take, and the first `$5` of them in the claim's order are leased:
/// mail never tried from the front of an index in place order (migration 0031), read no
/// further than the limit however deep the backlog; retries by their due time (migration
/// 0031), so those not due are never read; and expired leases by their end (migration 0034),
/// so leases still running are never read. What a claim still reads is every due retry, which
/// it sorts by place (many at once only when a destination comes back after an outage); a
/// deleting tenant's waiting mail until the purge takes it; and a paused tenant's mail not
/// marked held: while a pause is marking it, or left unmarked until the next start by marking
/// that failed, and the few messages in flight or being accepted at the pause. It never reads the
/// history, nor a paused tenant's held mail.
/// Each part repeats its index's condition word for word: PostgreSQL proves the index usable
/// from it, and SQLite, which has no statistics to prefer an index by, is told which to use and
/// refuses the claim, rather than read the backlog, if it is missing. On PostgreSQL each part
/// locks what it read, up to `$5` rows, and the rows not leased are let go when the statement
/// ends; meanwhile other nodes' claims pass them by.
pub fn claim_sql(store: &Store) -> String {
    let (fresh, retries, in_flight, lock) = match store {
        Store::Sqlite(_) => (
            " INDEXED BY recipients_claim_new",
            " INDEXED BY recipients_claim_retry",
            " INDEXED BY recipients_leases",
            "",
        ),
        Store::Postgres(_) => ("", "", "", " FOR UPDATE SKIP LOCKED"),
    };
    let sending = "tenant_id NOT IN (SELECT id FROM tenants \
                   WHERE sending_paused_at IS NOT NULL OR deleting_since IS NOT NULL)";
    format!(
        "UPDATE recipients SET state = 'sending', lease_owner = $1, lease_until = $2, \
         lease_token = $3 WHERE id IN (SELECT id FROM (\
         SELECT id, 0 AS retry, fair_key FROM (SELECT id, fair_key FROM recipients{fresh} \
         WHERE state IN ('queued', 'deferred') AND attempts = 0 AND NOT held \
         AND COALESCE(next_attempt_at, 0) <= $4 AND {sending} \
         ORDER BY fair_key LIMIT $5{lock}) AS fresh \
         UNION ALL \
         SELECT id, 1, fair_key FROM (SELECT id, fair_key FROM recipients{retries} \
         WHERE state IN ('queued', 'deferred') AND attempts <> 0 AND NOT held \
         AND COALESCE(next_attempt_at, 0) <= $4 AND {sending} \
         ORDER BY fair_key LIMIT $5{lock}) AS retries \
         UNION ALL \
         SELECT id, CASE WHEN attempts = 0 THEN 0 ELSE 1 END, fair_key FROM (SELECT id, \
         attempts, fair_key FROM recipients{in_flight} \
         WHERE state = 'sending' AND lease_until < $4 AND {sending} \
         ORDER BY CASE WHEN attempts = 0 THEN 0 ELSE 1 END, fair_key LIMIT $5{lock}) AS expired\
         ) AS due ORDER BY retry, fair_key LIMIT $5) \
         RETURNING id, message_id, tenant_id, address, domain, attempts, fair_key"
    )
}

impl Store {
    /// Leases up to `limit` recipients that are due (queued, deferred and due, or sending under
    /// an expired lease) to `owner` until `lease_until`. Recipients never tried come first, so
    /// new mail is not starved by retries; within each, the order of their places in the fair
    /// queue, so one tenant's burst does not hold another tenant's mail back for more than a
    /// round (migration 0021). PostgreSQL skips rows other nodes are claiming.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError> {
        let token = uuid::Uuid::new_v4().to_string();
        let claim = claim_sql(self);
        let rows: Vec<ClaimRow> = match self {
            Store::Sqlite(pools) => {
                // SQLite runs every statement of a query in one hand-off to the connection's
                // thread.
                let sql = format!("{SQLITE_RELAXED}; {claim}; {SERVED_SQLITE}; {SQLITE_DURABLE}");
                let mut writer = RelaxedWriter {
                    connection: pools.writer().acquire().await?,
                    restored: false,
                };
                let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(owner)
                    .bind(lease_until.0)
                    .bind(&token)
                    .bind(now.0)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *writer.connection)
                    .await?;
                writer.restored = true;
                rows
            }
            Store::Postgres(pool) => {
                sqlx::query_as(sqlx::AssertSqlSafe(claim_postgres(&claim)))
                    .bind(owner)
                    .bind(lease_until.0)
                    .bind(&token)
                    .bind(now.0)
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|row| Claim {
                recipient_id: row.id,
                message_id: row.message_id,
                tenant_id: row.tenant_id,
                address: row.address,
                domain: row.domain,
                attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
                lease_token: token.clone(),
            })
            .collect())
    }

    /// Extends the lease of the claims made under `token` that are still being delivered, so a
    /// slow delivery round keeps its work; returns how many were extended. Outcomes already
    /// recorded are no longer `sending` and are left alone.
    pub async fn renew_claims(
        &self,
        owner: &str,
        token: &str,
        lease_until: Timestamp,
    ) -> Result<u64, StoreError> {
        Ok(with_writer!(self, pool => {
            sqlx::query(
                "UPDATE recipients SET lease_until = $1 \
                 WHERE lease_token = $2 AND lease_owner = $3 AND state = 'sending'",
            )
            .bind(lease_until.0)
            .bind(token)
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// The claimed messages, as delivery needs them: with their source and without their
    /// recipients (the claims say whom to deliver to), in a query per 512 messages instead of
    /// two queries each. A message that is gone (its tenant was deleted) is not returned.
    pub async fn messages_to_deliver(
        &self,
        ids: &[MessageId],
    ) -> Result<Vec<QueuedMessage>, StoreError> {
        let mut messages = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(LIST_CHUNK) {
            let sql = format!(
                concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages m JOIN message_sources s ON s.message_id = m.id \
                     WHERE m.id IN ({})"
                ),
                placeholders(1, chunk.len().next_power_of_two())
            );
            let rows: Vec<MessageRow> = with_reader!(self, pool => {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for id in padded(chunk) {
                    query = query.bind(id);
                }
                query.fetch_all(pool).await?
            });
            for row in rows {
                messages.push(message_from_rows(row, Vec::new())?);
            }
        }
        Ok(messages)
    }

    /// Puts a claimed recipient back without an attempt (a graceful shutdown).
    pub async fn release_claim(&self, claim: &Claim) -> Result<bool, StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE recipients SET state = CASE WHEN attempts = 0 THEN 'queued' ELSE 'deferred' END, \
                 lease_owner = NULL, lease_until = NULL, lease_token = NULL \
                 WHERE id = $1 AND tenant_id = $2 AND lease_token = $3 AND state = 'sending'",
            )
            .bind(claim.recipient_id)
            .bind(claim.tenant_id)
            .bind(&claim.lease_token)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated > 0)
    }
}
