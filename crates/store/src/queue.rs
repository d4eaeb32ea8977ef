//! The durable queue: accepting a message commits it with all its recipients in one transaction
//! before anyone is told it was accepted (SPEC S9.3), and reading it back. Claims and outcomes,
//! fenced by leases, are in `claims.rs` and `outcomes.rs`; the row conversions in
//! `message_rows.rs`.

use sealpost_domain::{
    IdempotencyKey, MessageId, QueuedMessage, Recipient, RecipientState, TenantId, Timestamp,
};

use crate::message_rows::{
    MessageRow, RecipientRow, SigningColumns, message_columns, message_from_rows,
};
use crate::subjects::subject_of;
use crate::{Store, StoreError, with_reader, with_writer};

/// Appends a delivery event (the UI and later webhooks read these) inside the caller's
/// transaction. A macro rather than a function, because each backend's transaction is its own
/// type and the statement is the same for both.
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
        match (inserted, sealpost_domain::EventType::of_message_event(kind)) {
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
        }
    }};
}
pub(crate) use insert_event;

const DUPLICATE: &str = "a message with this idempotency key";

/// A message's recipients in the order they were given, read through
/// `recipients_tenant_message` (migration 0026) rather than all of the tenant's recipients.
pub(crate) const MESSAGE_RECIPIENTS_SQL: &str = "SELECT id, address, domain, state, attempts, \
     next_attempt_at, last_reply, updated_at FROM recipients \
     WHERE tenant_id = $1 AND message_id = $2 ORDER BY position";

impl Store {
    /// Commits a message, its recipients and its `accepted` event in one transaction. A repeated
    /// idempotency key of the same tenant is refused as [`StoreError::Duplicate`].
    pub async fn insert_message(&self, message: &QueuedMessage) -> Result<(), StoreError> {
        self.insert_messages(std::slice::from_ref(message)).await
    }

    /// Commits several messages in one transaction: one durable commit for many acceptances
    /// (group commit). Either all are stored or none is.
    pub async fn insert_messages(&self, messages: &[QueuedMessage]) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            for message in messages {
                let signing = SigningColumns::from(&message.signing);
                sqlx::query(
                    "INSERT INTO messages (id, tenant_id, mail_from, size, signed, \
                     signing_domain, signing_selector, unsigned_code, unsigned_reason, route, \
                     source, idempotency_key, idempotency_hash, accepted_at, expires_at, \
                     subject) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16)",
                )
                .bind(message.id)
                .bind(message.tenant_id)
                .bind(&message.mail_from)
                .bind(message.raw.len() as i64)
                .bind(signing.signed)
                .bind(signing.signing_domain)
                .bind(signing.signing_selector)
                .bind(signing.unsigned_code)
                .bind(signing.unsigned_reason)
                .bind(message.route.as_str())
                .bind(message.source.as_str())
                .bind(message.idempotency_key.as_ref().map(IdempotencyKey::key))
                .bind(message.idempotency_key.as_ref().map(IdempotencyKey::request_hash))
                .bind(message.accepted_at.0)
                .bind(message.expires_at.0)
                .bind(subject_of(&message.raw))
                .execute(&mut *transaction)
                .await
                .map_err(|error| StoreError::duplicate_as(error, DUPLICATE))?;
                sqlx::query(
                    "INSERT INTO message_sources (message_id, tenant_id, raw) VALUES ($1, $2, $3)",
                )
                .bind(message.id)
                .bind(message.tenant_id)
                .bind(&message.raw)
                .execute(&mut *transaction)
                .await?;
                // The message's places in the fair queue: past what was served and past the
                // tenant's own last place (see migration 0021).
                let (served, tenant_last): (i64, i64) = sqlx::query_as(
                    "SELECT (SELECT served FROM queue_clock WHERE id = 1), \
                     COALESCE((SELECT MAX(fair_key) FROM recipients WHERE tenant_id = $1), 0)",
                )
                .bind(message.tenant_id)
                .fetch_one(&mut *transaction)
                .await?;
                let first_place = served.max(tenant_last) + 1;
                for (position, recipient) in message.recipients.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO recipients (id, message_id, tenant_id, position, address, \
                         domain, state, attempts, next_attempt_at, last_reply, updated_at, \
                         fair_key, accepted_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(recipient.id)
                    .bind(message.id)
                    .bind(message.tenant_id)
                    .bind(position as i64)
                    .bind(&recipient.address)
                    .bind(&recipient.domain)
                    .bind(recipient.state.as_str())
                    .bind(i64::from(recipient.attempts))
                    .bind(recipient.next_attempt_at.map(|at| at.0))
                    .bind(recipient.last_reply.as_deref())
                    .bind(recipient.updated_at.0)
                    .bind(first_place + position as i64)
                    .bind(message.accepted_at.0)
                    .execute(&mut *transaction)
                    .await?;
                    // A recipient on the tenant's suppression list is accepted already final.
                    if recipient.state == RecipientState::Suppressed {
                        insert_event!(transaction, message.tenant_id, message.id, Some(recipient.id), "suppressed", recipient.last_reply.as_deref().unwrap_or_default(), message.accepted_at)?;
                    }
                }
                insert_event!(transaction, message.tenant_id, message.id, None, "accepted", "", message.accepted_at)?;
            }
            // PostgreSQL sends it when (and only if) the transaction commits.
            if matches!(self, Store::Postgres(_)) {
                sqlx::query("SELECT pg_notify($1, '')")
                    .bind(crate::work_signal::CHANNEL)
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
        });
        Ok(())
    }

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
        let recipients: Vec<RecipientRow> = with_reader!(self, pool => {
            sqlx::query_as(MESSAGE_RECIPIENTS_SQL)
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
        let changed = with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE recipients SET state = CASE WHEN $1 = 'cancelled' THEN 'cancelled' ELSE state END, \
                 next_attempt_at = CASE WHEN $1 = 'cancelled' THEN NULL ELSE $2 END, updated_at = $2 \
                 WHERE tenant_id = $3 AND message_id = $4 AND state IN ('queued', 'deferred') \
                 AND ($1 = 'cancelled' OR state = 'deferred')",
            )
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
            sqlx::query_as(
                "SELECT MIN(messages.accepted_at) FROM messages JOIN recipients \
                 ON recipients.message_id = messages.id \
                 WHERE recipients.state IN ('queued', 'sending', 'deferred')",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(row.0.map(Timestamp))
    }
}
