//! Delivering the webhook outbox: rows are claimed under a lease (so two nodes never send the
//! same row at once, and a crashed node's rows come back), only the oldest pending row of each
//! endpoint and stream (so events of one message arrive in order), and each attempt is logged
//! with the row's next state in one transaction.

use sealpost_domain::{TenantId, Timestamp, WebhookEndpointId};

use crate::webhooks::{OutboxDelivery, OutboxNext, WebhookAttempt, WebhookDeliveryRecord};
use crate::{Store, StoreError, with_reader, with_writer};

/// One attempt as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookAttemptRecord {
    pub at: i64,
    pub status: Option<i32>,
    pub latency_ms: i64,
    pub response: String,
    pub error: Option<String>,
}

/// The statement that leases to the token `$2` until `$1` the first `$4` rows due at `$3`
/// (pending, not leased, the first pending row of their stream) of enabled endpoints of tenants
/// not being deleted, the longest waiting first. It starts from the enabled endpoints and reads
/// each one's due rows from the index of pending rows by endpoint and due time (migration
/// 0032), so neither the delivered history nor the rows of a disabled endpoint, which wait
/// until it is enabled again, are read: reading past 100,000 of those took 35 ms a round on
/// SQLite, four rounds a second. SQLite is told the join order and the index, and the state is
/// checked again around the selection as `+state`, which keeps SQLite from reading every
/// pending row through the index by state to check it.
pub(crate) fn outbox_claim_sql(store: &Store) -> String {
    let (index, state) = match store {
        Store::Sqlite(_) => (" INDEXED BY webhook_outbox_pending", "+state"),
        Store::Postgres(_) => ("", "state"),
    };
    format!(
        "UPDATE webhook_outbox SET leased_until = $1, lease_token = $2 WHERE id IN \
         (SELECT o.id FROM webhook_endpoints e CROSS JOIN webhook_outbox o{index} \
         WHERE e.enabled = TRUE AND o.endpoint_id = e.id AND o.state = 'pending' \
         AND o.next_attempt_at <= $3 AND (o.leased_until IS NULL OR o.leased_until <= $3) \
         AND o.tenant_id NOT IN (SELECT id FROM tenants WHERE deleting_since IS NOT NULL) \
         AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.endpoint_id = o.endpoint_id \
         AND p.stream = o.stream AND p.state = 'pending' AND p.id < o.id) \
         ORDER BY o.next_attempt_at, o.id LIMIT $4) \
         AND {state} = 'pending' AND (leased_until IS NULL OR leased_until <= $3)"
    )
}

/// The rows a webhook round has just leased, by its lease token: through the index of tokens
/// (migration 0032), not the whole outbox.
pub(crate) const LEASED_OUTBOX_SQL: &str = "SELECT o.id, o.endpoint_id, o.tenant_id, e.url, \
     o.event_type, o.message_id, o.recipient_id, r.address AS recipient, o.signing_domain_id, \
     o.detail, o.event_at, o.attempts, o.created_at \
     FROM webhook_outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id \
     LEFT JOIN recipients r ON r.id = o.recipient_id \
     WHERE o.lease_token = $1 AND o.state = 'pending' ORDER BY o.id";

/// An endpoint's last success, from the end of the index of its successes (migration 0032),
/// whose condition this repeats word for word so SQLite can use it.
pub(crate) const LAST_SUCCESS_SQL: &str = "SELECT MAX(at) FROM webhook_attempts \
     WHERE endpoint_id = $1 AND status >= 200 AND status < 300";

impl Store {
    /// Claims up to `limit` due rows until `lease_until`, in one statement: rows of enabled
    /// endpoints whose turn it is in their stream (a switched-off endpoint's rows wait).
    pub async fn claim_webhook_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxDelivery>, StoreError> {
        let token = uuid::Uuid::new_v4().to_string();
        let claimed = with_writer!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(outbox_claim_sql(self)))
            .bind(lease_until.0)
            .bind(&token)
            .bind(now.0)
            .bind(limit)
            .execute(pool)
            .await?;
            sqlx::query_as(LEASED_OUTBOX_SQL)
            .bind(&token)
            .fetch_all(pool)
            .await?
        });
        Ok(claimed)
    }

    /// Logs the attempts of a round and moves their rows on, releasing the leases, in one
    /// transaction (one durable commit per round, not per event).
    pub async fn finish_webhook_deliveries(
        &self,
        finished: &[(OutboxDelivery, WebhookAttempt, OutboxNext)],
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            for (delivery, attempt, next) in finished {
                let (state, next_at) = match next {
                    OutboxNext::Delivered => ("delivered", attempt.at),
                    OutboxNext::RetryAt(at) => ("pending", *at),
                    OutboxNext::GiveUp => ("failed", attempt.at),
                };
                let status = match (attempt.status, &attempt.error) {
                    (Some(code), _) => code.to_string(),
                    (None, Some(error)) => error.clone(),
                    (None, None) => "no answer".to_owned(),
                };
                // The endpoint may have been deleted during the request; then there is
                // nothing to log.
                sqlx::query(
                    "INSERT INTO webhook_attempts (id, outbox_id, endpoint_id, tenant_id, at, \
                     status, latency_ms, response, error) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
                     WHERE EXISTS (SELECT 1 FROM webhook_outbox WHERE id = $2)",
                )
                .bind(attempt.id.hyphenated().to_string())
                .bind(delivery.id)
                .bind(delivery.endpoint_id)
                .bind(delivery.tenant_id)
                .bind(attempt.at.0)
                .bind(attempt.status.map(i32::from))
                .bind(attempt.latency_ms)
                .bind(&attempt.response)
                .bind(attempt.error.as_deref())
                .execute(&mut *transaction)
                .await?;
                sqlx::query(
                    "UPDATE webhook_outbox SET state = $1, attempts = attempts + 1, \
                     next_attempt_at = $2, leased_until = NULL, lease_token = NULL, \
                     last_status = $3 WHERE id = $4",
                )
                .bind(state)
                .bind(next_at.0)
                .bind(&status)
                .bind(delivery.id)
                .execute(&mut *transaction)
                .await?;
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// When the endpoint last answered with a 2xx, if ever.
    pub async fn webhook_last_success(
        &self,
        id: WebhookEndpointId,
    ) -> Result<Option<Timestamp>, StoreError> {
        let last: (Option<i64>,) = with_reader!(self, pool => {
            sqlx::query_as(LAST_SUCCESS_SQL)
            .bind(id)
            .fetch_one(pool)
            .await?
        });
        Ok(last.0.map(Timestamp))
    }

    /// Switches an endpoint off with the reason the tenant is shown; its pending rows stay and
    /// go out once it is enabled again.
    pub async fn disable_webhook_endpoint(
        &self,
        id: WebhookEndpointId,
        reason: &str,
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query(
                "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $1 WHERE id = $2",
            )
            .bind(reason)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The newest outbox rows of an endpoint, newest first.
    pub async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        id: WebhookEndpointId,
        limit: i64,
    ) -> Result<Vec<WebhookDeliveryRecord>, StoreError> {
        let rows = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT id, event_type, message_id, state, attempts, next_attempt_at, last_status, \
                 event_at FROM webhook_outbox WHERE tenant_id = $1 AND endpoint_id = $2 \
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(tenant)
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// The attempts of one outbox row of the endpoint, oldest first; `NotFound` when the
    /// endpoint has no such row.
    pub async fn webhook_attempts(
        &self,
        tenant: TenantId,
        endpoint: WebhookEndpointId,
        delivery: i64,
    ) -> Result<Vec<WebhookAttemptRecord>, StoreError> {
        let rows = with_reader!(self, pool => {
            let found: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM webhook_outbox WHERE tenant_id = $1 AND endpoint_id = $2 AND id = $3",
            )
            .bind(tenant)
            .bind(endpoint)
            .bind(delivery)
            .fetch_optional(pool)
            .await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query_as(
                "SELECT at, status, latency_ms, response, error FROM webhook_attempts \
                 WHERE tenant_id = $1 AND outbox_id = $2 ORDER BY at, id",
            )
            .bind(tenant)
            .bind(delivery)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Sends a row that was given up on again, from now.
    pub async fn replay_webhook_delivery(
        &self,
        tenant: TenantId,
        id: WebhookEndpointId,
        delivery: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE webhook_outbox SET state = 'pending', next_attempt_at = $1, \
                 leased_until = NULL WHERE tenant_id = $2 AND endpoint_id = $3 AND id = $4 \
                 AND state = 'failed'",
            )
            .bind(now.0)
            .bind(tenant)
            .bind(id)
            .bind(delivery)
            .execute(pool)
            .await?
            .rows_affected()
        });
        match updated {
            0 => Err(StoreError::Changed(
                "only a delivery that was given up on can be replayed",
            )),
            _ => Ok(()),
        }
    }
}
