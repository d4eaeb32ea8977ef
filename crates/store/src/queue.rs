//! The durable queue: accepting a message commits it with all its recipients in one transaction
//! before anyone is told it was accepted (SPEC S9.3); workers claim due recipients under a lease
//! and record outcomes only while they still hold it, so a node that lost its lease never
//! overwrites the outcome of the node that took over.

use sealpost_domain::{
    IdempotencyKey, MessageId, QueuedMessage, Recipient, RecipientId, RecipientState, Route,
    SigningRecord, TenantId, Timestamp,
};

use crate::rows::parse_id;
use crate::{Store, StoreError, with_pool};

/// Appends a delivery event (the UI and later webhooks read these) inside the caller's
/// transaction. A macro rather than a function, because each backend's transaction is its own
/// type and the statement is the same for both.
macro_rules! insert_event {
    ($transaction:expr, $tenant:expr, $message:expr, $recipient:expr, $kind:expr, $detail:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO events (tenant_id, message_id, recipient_id, kind, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($tenant.to_string())
        .bind($message.to_string())
        .bind($recipient.map(|id: RecipientId| id.to_string()))
        .bind($kind)
        .bind($detail)
        .bind($at.0)
        .execute(&mut *$transaction)
        .await
    };
}

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

/// One finished attempt, as it is recorded in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// `delivered`, `temporary` or `permanent`.
    pub outcome: &'static str,
    pub reply: String,
    pub host: Option<String>,
}

/// The state a recipient moves to after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientUpdate {
    pub state: RecipientState,
    pub next_attempt_at: Option<Timestamp>,
    pub last_reply: String,
}

/// A past attempt, for the message detail (SPEC S8.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptInfo {
    pub recipient_id: RecipientId,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub outcome: String,
    pub reply: String,
    pub host: Option<String>,
}

const DUPLICATE: &str = "a message with this idempotency key";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    tenant_id: String,
    mail_from: String,
    raw: Vec<u8>,
    signed: bool,
    signing_domain: Option<String>,
    signing_selector: Option<String>,
    unsigned_code: Option<String>,
    unsigned_reason: Option<String>,
    route: String,
    source: String,
    idempotency_key: Option<String>,
    idempotency_hash: Option<String>,
    accepted_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RecipientRow {
    id: String,
    address: String,
    domain: String,
    state: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_reply: Option<String>,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: String,
    message_id: String,
    tenant_id: String,
    address: String,
    domain: String,
    attempts: i64,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    recipient_id: String,
    started_at: i64,
    finished_at: i64,
    outcome: String,
    reply: String,
    host: Option<String>,
}

impl TryFrom<RecipientRow> for Recipient {
    type Error = StoreError;

    fn try_from(row: RecipientRow) -> Result<Self, StoreError> {
        Ok(Recipient {
            id: parse_id("recipient id", &row.id)?,
            state: RecipientState::parse(&row.state)
                .ok_or_else(|| StoreError::Corrupt(format!("recipient state {:?}", row.state)))?,
            address: row.address,
            domain: row.domain,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            next_attempt_at: row.next_attempt_at.map(Timestamp),
            last_reply: row.last_reply,
            updated_at: Timestamp(row.updated_at),
        })
    }
}

fn message_from_rows(
    row: MessageRow,
    recipients: Vec<Recipient>,
) -> Result<QueuedMessage, StoreError> {
    let (signing, route, source) = message_facts(
        row.signed,
        row.signing_domain,
        row.signing_selector,
        row.unsigned_code,
        row.unsigned_reason,
        &row.route,
        &row.source,
    )?;
    Ok(QueuedMessage {
        id: parse_id("message id", &row.id)?,
        tenant_id: parse_id("tenant id", &row.tenant_id)?,
        mail_from: row.mail_from,
        raw: row.raw,
        signing,
        route,
        source,
        idempotency_key: match (row.idempotency_key, row.idempotency_hash) {
            (Some(key), hash) => Some(
                IdempotencyKey::parse(&key, hash.unwrap_or_default())
                    .map_err(|_| StoreError::Corrupt(format!("idempotency key {key:?}")))?,
            ),
            (None, _) => None,
        },
        accepted_at: Timestamp(row.accepted_at),
        expires_at: Timestamp(row.expires_at),
        recipients,
    })
}

/// The signing record, route and source of a message row, shared by whole messages and
/// summaries.
pub(crate) fn message_facts(
    signed: bool,
    signing_domain: Option<String>,
    signing_selector: Option<String>,
    unsigned_code: Option<String>,
    unsigned_reason: Option<String>,
    route: &str,
    source: &str,
) -> Result<(SigningRecord, Route, &'static str), StoreError> {
    let signing = if signed {
        SigningRecord::Signed {
            domain: signing_domain.unwrap_or_default(),
            selector: signing_selector.unwrap_or_default(),
        }
    } else {
        SigningRecord::Unsigned {
            code: unsigned_code.unwrap_or_default(),
            reason: unsigned_reason.unwrap_or_default(),
        }
    };
    let route =
        Route::parse(route).ok_or_else(|| StoreError::Corrupt(format!("route {route:?}")))?;
    let source = match source {
        "smtp" => "smtp",
        "mailing" => "mailing",
        _ => "http",
    };
    Ok((signing, route, source))
}

impl Store {
    /// Commits a message, its recipients and its `accepted` event in one transaction. A repeated
    /// idempotency key of the same tenant is refused as [`StoreError::Duplicate`].
    pub async fn insert_message(&self, message: &QueuedMessage) -> Result<(), StoreError> {
        self.insert_messages(std::slice::from_ref(message)).await
    }

    /// Commits several messages in one transaction: one durable commit for many acceptances
    /// (group commit). Either all are stored or none is.
    pub async fn insert_messages(&self, messages: &[QueuedMessage]) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut transaction = pool.begin().await?;
            for message in messages {
                let (signed, domain, selector, code, reason) = match &message.signing {
                    SigningRecord::Signed { domain, selector } => {
                        (true, Some(domain.as_str()), Some(selector.as_str()), None, None)
                    }
                    SigningRecord::Unsigned { code, reason } => {
                        (false, None, None, Some(code.as_str()), Some(reason.as_str()))
                    }
                };
                sqlx::query(
                    "INSERT INTO messages (id, tenant_id, mail_from, raw, size, signed, \
                     signing_domain, signing_selector, unsigned_code, unsigned_reason, route, \
                     source, idempotency_key, idempotency_hash, accepted_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16)",
                )
                .bind(message.id.to_string())
                .bind(message.tenant_id.to_string())
                .bind(&message.mail_from)
                .bind(&message.raw)
                .bind(message.raw.len() as i64)
                .bind(signed)
                .bind(domain)
                .bind(selector)
                .bind(code)
                .bind(reason)
                .bind(message.route.as_str())
                .bind(message.source)
                .bind(message.idempotency_key.as_ref().map(IdempotencyKey::key))
                .bind(message.idempotency_key.as_ref().map(IdempotencyKey::request_hash))
                .bind(message.accepted_at.0)
                .bind(message.expires_at.0)
                .execute(&mut *transaction)
                .await
                .map_err(|error| StoreError::duplicate_as(error, DUPLICATE))?;
                for (position, recipient) in message.recipients.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO recipients (id, message_id, tenant_id, position, address, \
                         domain, state, attempts, next_attempt_at, last_reply, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(recipient.id.to_string())
                    .bind(message.id.to_string())
                    .bind(message.tenant_id.to_string())
                    .bind(position as i64)
                    .bind(&recipient.address)
                    .bind(&recipient.domain)
                    .bind(recipient.state.as_str())
                    .bind(i64::from(recipient.attempts))
                    .bind(recipient.next_attempt_at.map(|at| at.0))
                    .bind(recipient.last_reply.as_deref())
                    .bind(recipient.updated_at.0)
                    .execute(&mut *transaction)
                    .await?;
                }
                insert_event!(transaction, message.tenant_id, message.id, None, "accepted", "", message.accepted_at)?;
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
        let row: Option<(String, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, idempotency_hash FROM messages \
                 WHERE tenant_id = $1 AND idempotency_key = $2",
            )
            .bind(tenant.to_string())
            .bind(key)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(id, hash)| Ok((parse_id("message id", &id)?, hash.unwrap_or_default())))
            .transpose()
    }

    /// A message with its recipients, in the order they were given.
    pub async fn message(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<QueuedMessage, StoreError> {
        let row: Option<MessageRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, tenant_id, mail_from, raw, signed, signing_domain, signing_selector, \
                 unsigned_code, unsigned_reason, route, source, idempotency_key, \
                 idempotency_hash, accepted_at, expires_at FROM messages \
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(pool)
            .await?
        });
        let row = row.ok_or(StoreError::NotFound)?;
        let recipients = self.recipients(tenant, id).await?;
        message_from_rows(row, recipients)
    }

    /// A message's recipients in the order they were given.
    pub(crate) async fn recipients(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<Vec<Recipient>, StoreError> {
        let recipients: Vec<RecipientRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, address, domain, state, attempts, next_attempt_at, last_reply, \
                 updated_at FROM recipients WHERE tenant_id = $1 AND message_id = $2 \
                 ORDER BY position",
            )
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_all(pool)
            .await?
        });
        recipients.into_iter().map(Recipient::try_from).collect()
    }

    /// The attempts made for a message's recipients, oldest first.
    pub async fn attempts(
        &self,
        tenant: TenantId,
        message: MessageId,
    ) -> Result<Vec<AttemptInfo>, StoreError> {
        let rows: Vec<AttemptRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT recipient_id, started_at, finished_at, outcome, reply, host FROM attempts \
                 WHERE tenant_id = $1 AND message_id = $2 ORDER BY started_at, id",
            )
            .bind(tenant.to_string())
            .bind(message.to_string())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(AttemptInfo {
                    recipient_id: parse_id("recipient id", &row.recipient_id)?,
                    started_at: Timestamp(row.started_at),
                    finished_at: Timestamp(row.finished_at),
                    outcome: row.outcome,
                    reply: row.reply,
                    host: row.host,
                })
            })
            .collect()
    }

    /// Leases up to `limit` recipients that are due (queued, deferred and due, or sending under
    /// an expired lease) to `owner` until `lease_until`. Recipients never tried come first, so
    /// new mail is not starved by retries. PostgreSQL skips rows other nodes are claiming.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Claim>, StoreError> {
        let token = uuid::Uuid::new_v4().to_string();
        let due = "(state IN ('queued', 'deferred') AND COALESCE(next_attempt_at, 0) <= $4) \
                   OR (state = 'sending' AND lease_until < $4)";
        let returning = " RETURNING id, message_id, tenant_id, address, domain, attempts";
        let rows: Vec<ClaimRow> = match self {
            Store::Sqlite(pool) => {
                let sql = format!(
                    "UPDATE recipients SET state = 'sending', lease_owner = $1, lease_until = $2, \
                     lease_token = $3 WHERE id IN (SELECT id FROM recipients WHERE {due} \
                     ORDER BY attempts, COALESCE(next_attempt_at, 0) LIMIT $5){returning}"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(owner)
                    .bind(lease_until.0)
                    .bind(&token)
                    .bind(now.0)
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                let sql = format!(
                    "UPDATE recipients SET state = 'sending', lease_owner = $1, lease_until = $2, \
                     lease_token = $3 WHERE id IN (SELECT id FROM recipients WHERE {due} \
                     ORDER BY attempts, COALESCE(next_attempt_at, 0) LIMIT $5 \
                     FOR UPDATE SKIP LOCKED){returning}"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(owner)
                    .bind(lease_until.0)
                    .bind(&token)
                    .bind(now.0)
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await?
            }
        };
        rows.into_iter()
            .map(|row| {
                Ok(Claim {
                    recipient_id: parse_id("recipient id", &row.id)?,
                    message_id: parse_id("message id", &row.message_id)?,
                    tenant_id: parse_id("tenant id", &row.tenant_id)?,
                    address: row.address,
                    domain: row.domain,
                    attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
                    lease_token: token.clone(),
                })
            })
            .collect()
    }

    /// Records an attempt and moves the recipient on, in one transaction, but only while the
    /// claim's lease is still held. Returns false (and records nothing) when another node has
    /// taken the recipient over.
    pub async fn finish_attempt(
        &self,
        claim: &Claim,
        update: &RecipientUpdate,
        attempt: &AttemptRecord,
    ) -> Result<bool, StoreError> {
        let recorded = self
            .finish_attempts(&[(claim.clone(), update.clone(), attempt.clone())])
            .await?;
        Ok(recorded[0])
    }

    /// Records several attempts in one transaction (one durable commit per delivery round).
    /// Each is fenced by its own claim: the result says, per attempt, whether it was recorded.
    pub async fn finish_attempts(
        &self,
        attempts: &[(Claim, RecipientUpdate, AttemptRecord)],
    ) -> Result<Vec<bool>, StoreError> {
        let mut recorded = Vec::with_capacity(attempts.len());
        with_pool!(self, pool => {
            let mut transaction = pool.begin().await?;
            for (claim, update, attempt) in attempts {
                let event = match update.state {
                    RecipientState::Sent => "sent",
                    RecipientState::Deferred => "deferred",
                    RecipientState::Expired => "expired",
                    _ => "failed",
                };
                let updated = sqlx::query(
                    "UPDATE recipients SET state = $1, attempts = attempts + 1, \
                     next_attempt_at = $2, last_reply = $3, lease_owner = NULL, \
                     lease_until = NULL, lease_token = NULL, updated_at = $4 \
                     WHERE id = $5 AND tenant_id = $6 AND lease_token = $7 AND state = 'sending'",
                )
                .bind(update.state.as_str())
                .bind(update.next_attempt_at.map(|at| at.0))
                .bind(&update.last_reply)
                .bind(attempt.finished_at.0)
                .bind(claim.recipient_id.to_string())
                .bind(claim.tenant_id.to_string())
                .bind(&claim.lease_token)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                recorded.push(updated > 0);
                if updated == 0 {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO attempts (id, recipient_id, message_id, tenant_id, started_at, \
                     finished_at, outcome, reply, host) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(claim.recipient_id.to_string())
                .bind(claim.message_id.to_string())
                .bind(claim.tenant_id.to_string())
                .bind(attempt.started_at.0)
                .bind(attempt.finished_at.0)
                .bind(attempt.outcome)
                .bind(&attempt.reply)
                .bind(attempt.host.as_deref())
                .execute(&mut *transaction)
                .await?;
                insert_event!(transaction, claim.tenant_id, claim.message_id, Some(claim.recipient_id), event, &update.last_reply, attempt.finished_at)?;
            }
            transaction.commit().await?;
        });
        Ok(recorded)
    }

    /// Puts a claimed recipient back without an attempt (a graceful shutdown).
    pub async fn release_claim(&self, claim: &Claim) -> Result<bool, StoreError> {
        let updated = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE recipients SET state = CASE WHEN attempts = 0 THEN 'queued' ELSE 'deferred' END, \
                 lease_owner = NULL, lease_until = NULL, lease_token = NULL \
                 WHERE id = $1 AND tenant_id = $2 AND lease_token = $3 AND state = 'sending'",
            )
            .bind(claim.recipient_id.to_string())
            .bind(claim.tenant_id.to_string())
            .bind(&claim.lease_token)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated > 0)
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
        let changed = with_pool!(self, pool => {
            let mut transaction = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE recipients SET state = CASE WHEN $1 = 'cancelled' THEN 'cancelled' ELSE state END, \
                 next_attempt_at = CASE WHEN $1 = 'cancelled' THEN NULL ELSE $2 END, updated_at = $2 \
                 WHERE tenant_id = $3 AND message_id = $4 AND state IN ('queued', 'deferred') \
                 AND ($1 = 'cancelled' OR state = 'deferred')",
            )
            .bind(target)
            .bind(now.0)
            .bind(tenant.to_string())
            .bind(message.to_string())
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
        Ok(with_pool!(self, pool => {
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
        let row: (Option<i64>,) = with_pool!(self, pool => {
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
