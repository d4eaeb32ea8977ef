//! The durable queue: reading messages back, appending one event (`insert_event!`), and the
//! changes people make to waiting mail. Accepting messages is in `acceptance.rs`; claims and
//! outcomes, fenced by leases, in `claims.rs` and `outcomes.rs`; the row conversions in
//! `message_rows.rs`.

use sealpost_domain::{MessageId, QueuedMessage, Recipient, TenantId, Timestamp};

use crate::message_rows::{MessageRow, RecipientRow, message_columns, message_from_rows};
use crate::paging::sql_for;
use crate::{Store, StoreError, with_reader, with_writer};

/// Appends a delivery event (the UI and later webhooks read these) inside the caller's
/// transaction, and adds it to its tenant's hourly counts if it is of a counted kind
/// (`sending_counts.rs`). A macro rather than a function, because each backend's transaction is
/// its own type and the statement is the same for both.
macro_rules! insert_event {
    ($transaction:expr, $tenant:expr, $message:expr, $recipient:expr, $kind:expr, $detail:expr, $at:expr) => {{
        let recipient: Option<sealpost_domain::RecipientId> = $recipient;
        let message: sealpost_domain::MessageId = $message;
        let kind: &str = $kind;
        let detail: &str = $detail;
        let at: sealpost_domain::Timestamp = $at;
        let inserted = sqlx::query(
            "INSERT INTO events (tenant_id, message_id, recipient_id, kind, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($tenant)
        .bind(message)
        .bind(recipient)
        .bind(kind)
        .bind(detail)
        .bind(at.0)
        .execute(&mut *$transaction)
        .await;
        let delivered = match (inserted, sealpost_domain::EventType::of_message_event(kind)) {
            (Err(error), _) => Err(error),
            (Ok(_), None) => Ok(()),
            (Ok(_), Some(webhook)) => {
                crate::webhooks::insert_outbox!(
                    $transaction,
                    $tenant,
                    webhook.name(),
                    message.to_string(),
                    Some(message),
                    recipient,
                    None,
                    detail,
                    at
                )
            }
        };
        // The counts last (`sending_counts.rs`).
        match delivered {
            Ok(()) => $crate::sending_counts::add_count!($transaction, $tenant, kind, at),
            Err(error) => Err(error),
        }
    }};
}
pub(crate) use insert_event;

/// How a statement on a message's recipients, by tenant and message, names `recipients` on
/// `$backend`: through the index by message and state (migration 0010), which holds a message's
/// few recipients together, since migration 0041 dropped the index by tenant and message. SQLite,
/// which has no statistics to go by, would read all of the tenant's recipients through an index
/// by tenant instead, so it is told which index to use.
macro_rules! recipients_by_message {
    (sqlite, $alias:literal) => {
        concat!(
            "recipients ",
            $alias,
            " INDEXED BY recipients_message_state"
        )
    };
    (postgres, $alias:literal) => {
        concat!("recipients ", $alias)
    };
}
pub(crate) use recipients_by_message;

/// A message's recipients in the order they were given on `$backend`.
macro_rules! message_recipients_sql {
    ($backend:ident) => {
        concat!(
            "SELECT id, address, domain, state, attempts, next_attempt_at, last_reply, \
             updated_at FROM ",
            $crate::queue::recipients_by_message!($backend, ""),
            " WHERE tenant_id = $1 AND message_id = $2 ORDER BY position"
        )
    };
}
#[cfg(test)]
pub(crate) use message_recipients_sql;

/// Moves a message's waiting recipients on `$backend` (see [`Store::change_waiting`]).
macro_rules! change_waiting_sql {
    ($backend:ident) => {
        concat!(
            "UPDATE ",
            $crate::queue::recipients_by_message!($backend, ""),
            " SET state = CASE WHEN $1 = 'cancelled' THEN 'cancelled' ELSE state END, \
             next_attempt_at = CASE WHEN $1 = 'cancelled' THEN NULL ELSE $2 END, updated_at = $2 \
             WHERE tenant_id = $3 AND message_id = $4 AND state IN ('queued', 'deferred') \
             AND ($1 = 'cancelled' OR state = 'deferred')"
        )
    };
}
#[cfg(test)]
pub(crate) use change_waiting_sql;

/// When the oldest waiting message was accepted, from the acceptance time each recipient
/// carries (migration 0028), and no message at all (PostgreSQL read every message ever accepted
/// to join them): each waiting state's oldest is the first entry of its range of the index by
/// state and acceptance time (migration 0034), where one condition on the three states read
/// every waiting recipient.
pub(crate) const OLDEST_WAITING_SQL: &str = "SELECT MIN(oldest) FROM (\
     SELECT MIN(accepted_at) AS oldest FROM recipients WHERE state = 'queued' \
     UNION ALL SELECT MIN(accepted_at) FROM recipients WHERE state = 'sending' \
     UNION ALL SELECT MIN(accepted_at) FROM recipients WHERE state = 'deferred') AS waiting";

impl Store {
    /// The message an idempotency key was first used for, with the fingerprint of the request
    /// that used it (empty for messages accepted before fingerprints were kept).
    pub async fn message_by_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<(MessageId, String)>, StoreError> {
        let row: Option<(MessageId, Option<String>)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT id, idempotency_hash FROM messages \
                 WHERE tenant_id = $1 AND idempotency_key = $2",
            )
            .bind(tenant)
            .bind(key)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(id, hash)| (id, hash.unwrap_or_default())))
    }

    /// A message with its recipients, in the order they were given.
    pub async fn message(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<QueuedMessage, StoreError> {
        let read_row = async {
            let row: Option<MessageRow> = with_reader!(self, pool => {
                sqlx::query_as(concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages m JOIN message_sources s ON s.message_id = m.id \
                     WHERE m.tenant_id = $1 AND m.id = $2"
                ))
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
            });
            Ok::<_, StoreError>(row)
        };
        // The row and its recipients are independent reads: they run at once, so reading a
        // message waits for the slower of them only.
        let (row, recipients) = tokio::try_join!(read_row, self.recipients(tenant, id))?;
        let row = row.ok_or(StoreError::NotFound)?;
        message_from_rows(row, recipients)
    }

    /// Whether the tenant has this message, without reading it.
    pub async fn message_exists(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<bool, StoreError> {
        let row: Option<(i32,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT 1 FROM messages WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }

    /// A message's recipients in the order they were given.
    pub(crate) async fn recipients(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<Vec<Recipient>, StoreError> {
        let sql = sql_for!(self, message_recipients_sql);
        let recipients: Vec<RecipientRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
            .bind(tenant)
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        recipients.into_iter().map(Recipient::try_from).collect()
    }

    /// Makes a message's deferred recipients due now. Returns how many.
    pub async fn retry_now(
        &self,
        tenant: TenantId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.change_waiting(tenant, message, "deferred", now, "retry")
            .await
    }

    /// Cancels a message's recipients that are not final or being sent. Returns how many.
    pub async fn cancel(
        &self,
        tenant: TenantId,
        message: MessageId,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.change_waiting(tenant, message, "cancelled", now, "cancelled")
            .await
    }

    /// Moves the waiting (queued or deferred) recipients of a message: `deferred` makes them due
    /// now, `cancelled` ends them.
    async fn change_waiting(
        &self,
        tenant: TenantId,
        message: MessageId,
        target: &str,
        now: Timestamp,
        event: &'static str,
    ) -> Result<u64, StoreError> {
        let sql = sql_for!(self, change_waiting_sql);
        let changed = with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let changed = sqlx::query(sql)
            .bind(target)
            .bind(now.0)
            .bind(tenant)
            .bind(message)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if changed > 0 {
                insert_event!(transaction, tenant, message, None, event, "", now)?;
            }
            transaction.commit().await?;
            changed
        });
        Ok(changed)
    }
}

impl Store {
    /// Recipients per waiting state across all tenants, for the operator's metrics; the one
    /// query that spans tenants, because the queue is the platform's, not a tenant's.
    pub async fn queue_depth(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT state, COUNT(*) FROM recipients \
                 WHERE state IN ('queued', 'sending', 'deferred') GROUP BY state",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// When the oldest message that still has a waiting recipient was accepted.
    pub async fn oldest_waiting(&self) -> Result<Option<Timestamp>, StoreError> {
        let row: (Option<i64>,) = with_reader!(self, pool => {
            sqlx::query_as(OLDEST_WAITING_SQL)
            .fetch_one(pool)
            .await?
        });
        Ok(row.0.map(Timestamp))
    }
}
