//! Webhook endpoints and the durable outbox (SPEC S10.6). `insert_outbox!` is called by the
//! event macros of the queue and of the signing domains, inside the transaction of the state
//! change, so an event reaches the outbox exactly when its change is committed. The sealed
//! secrets are written here and read only by [`Store::webhook_secrets`].

use sealpost_domain::{
    EventTypes, MessageId, RecipientId, SigningDomainId, TenantId, Timestamp, WebhookEndpoint,
    WebhookEndpointId,
};

use crate::{Store, StoreError, with_reader, with_writer};

/// Inserts a row for every enabled endpoint of the tenant that subscribes to `$kind` (an
/// `EventType` name), inside the caller's transaction. A macro because each backend's
/// transaction is its own type.
macro_rules! insert_outbox {
    ($transaction:expr, $tenant:expr, $kind:expr, $stream:expr, $message:expr, $recipient:expr, $domain:expr, $detail:expr, $at:expr) => {{
        let kind: &str = $kind;
        let message: Option<sealpost_domain::MessageId> = $message;
        let recipient: Option<sealpost_domain::RecipientId> = $recipient;
        let domain: Option<sealpost_domain::SigningDomainId> = $domain;
        let at: sealpost_domain::Timestamp = $at;
        sqlx::query(
            "INSERT INTO webhook_outbox (endpoint_id, tenant_id, event_type, stream, message_id, \
             recipient_id, signing_domain_id, detail, event_at, state, attempts, next_attempt_at, \
             created_at) \
             SELECT id, tenant_id, $1, $2, $3, $4, $5, $6, $7, 'pending', 0, $7, $7 \
             FROM webhook_endpoints WHERE tenant_id = $8 AND enabled = TRUE \
             AND (event_types = '*' OR event_types LIKE $9)",
        )
        .bind(kind)
        .bind($stream)
        .bind(message)
        .bind(recipient)
        .bind(domain)
        .bind($detail)
        .bind(at.0)
        .bind($tenant)
        .bind(format!("%,{kind},%"))
        .execute(&mut *$transaction)
        .await
        .map(|_| ())
    }};
}
pub(crate) use insert_outbox;

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: WebhookEndpointId,
    tenant_id: TenantId,
    url: String,
    event_types: String,
    enabled: bool,
    disabled_reason: Option<String>,
    previous_until: Option<i64>,
    created_at: i64,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        Self {
            id: row.id,
            tenant_id: row.tenant_id,
            url: row.url,
            event_types: EventTypes::from_stored(&row.event_types),
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            previous_until: row.previous_until.map(Timestamp),
            created_at: Timestamp(row.created_at),
        }
    }
}

macro_rules! endpoint_columns {
    () => {
        "id, tenant_id, url, event_types, enabled, disabled_reason, previous_until, created_at"
    };
}

/// An endpoint's sealed secrets: the current one, and the previous one while it still signs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedWebhookSecrets {
    pub secret_sealed: Vec<u8>,
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_until: Option<i64>,
}

/// One outbox row claimed for delivery, with what its payload needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxDelivery {
    pub id: i64,
    pub endpoint_id: WebhookEndpointId,
    pub tenant_id: TenantId,
    pub url: String,
    pub event_type: String,
    pub message_id: Option<MessageId>,
    pub recipient_id: Option<RecipientId>,
    pub recipient: Option<String>,
    pub signing_domain_id: Option<SigningDomainId>,
    pub detail: String,
    pub event_at: i64,
    pub attempts: i32,
    pub created_at: i64,
}

/// One row of an endpoint's delivery log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookDeliveryRecord {
    pub id: i64,
    pub event_type: String,
    pub message_id: Option<MessageId>,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_status: Option<String>,
    pub event_at: i64,
}

/// What one delivery attempt gave, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub id: sealpost_domain::Uuid,
    pub at: Timestamp,
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub response: String,
    pub error: Option<String>,
}

/// Where an outbox row goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxNext {
    Delivered,
    RetryAt(Timestamp),
    GiveUp,
}

impl Store {
    pub async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        secret_sealed: &[u8],
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret_sealed, \
                 enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(endpoint.id)
            .bind(endpoint.tenant_id)
            .bind(&endpoint.url)
            .bind(endpoint.event_types.stored())
            .bind(secret_sealed)
            .bind(endpoint.enabled)
            .bind(endpoint.created_at.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn webhook_endpoints(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows: Vec<EndpointRow> = with_reader!(self, pool => {
            sqlx::query_as(concat!("SELECT ", endpoint_columns!(),
                " FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id"))
                .bind(tenant)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(WebhookEndpoint::from).collect())
    }

    pub async fn webhook_endpoint(
        &self,
        tenant: TenantId,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint, StoreError> {
        let row: Option<EndpointRow> = with_reader!(self, pool => {
            sqlx::query_as(concat!("SELECT ", endpoint_columns!(),
                " FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"))
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(WebhookEndpoint::from).ok_or(StoreError::NotFound)
    }

    /// Changes the URL, the event types or the enabled flag; enabling clears the reason the
    /// platform disabled it for.
    pub async fn update_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
    ) -> Result<(), StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE webhook_endpoints SET url = $1, event_types = $2, enabled = $3, \
                 disabled_reason = CASE WHEN $3 THEN NULL ELSE disabled_reason END \
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(&endpoint.url)
            .bind(endpoint.event_types.stored())
            .bind(endpoint.enabled)
            .bind(endpoint.tenant_id)
            .bind(endpoint.id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        match updated {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Deletes the endpoint with its outbox rows and delivery log.
    pub async fn delete_webhook_endpoint(
        &self,
        tenant: TenantId,
        id: WebhookEndpointId,
    ) -> Result<(), StoreError> {
        let deleted = with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            sqlx::query("DELETE FROM webhook_attempts WHERE tenant_id = $1 AND endpoint_id = $2")
                .bind(tenant)
                .bind(id)
                .execute(&mut *transaction)
                .await?;
            sqlx::query("DELETE FROM webhook_outbox WHERE tenant_id = $1 AND endpoint_id = $2")
                .bind(tenant)
                .bind(id)
                .execute(&mut *transaction)
                .await?;
            let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            transaction.commit().await?;
            deleted
        });
        match deleted {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Replaces the secret; the one it replaces keeps signing beside it until `previous_until`.
    pub async fn rotate_webhook_secret(
        &self,
        tenant: TenantId,
        id: WebhookEndpointId,
        secret_sealed: &[u8],
        previous_until: Timestamp,
    ) -> Result<(), StoreError> {
        let updated = with_writer!(self, pool => {
            sqlx::query(
                "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, \
                 secret_sealed = $1, previous_until = $2 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(secret_sealed)
            .bind(previous_until.0)
            .bind(tenant)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        match updated {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// The sealed secrets of an endpoint, for signing a delivery.
    pub async fn webhook_secrets(
        &self,
        tenant: TenantId,
        id: WebhookEndpointId,
    ) -> Result<SealedWebhookSecrets, StoreError> {
        let row: Option<SealedWebhookSecrets> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT secret_sealed, previous_secret_sealed, previous_until \
                 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.ok_or(StoreError::NotFound)
    }

    /// Queues a `test` event for one endpoint, whatever it subscribes to.
    pub async fn insert_webhook_test(
        &self,
        tenant: TenantId,
        id: WebhookEndpointId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let inserted = with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO webhook_outbox (endpoint_id, tenant_id, event_type, stream, detail, \
                 event_at, state, attempts, next_attempt_at, created_at) \
                 SELECT id, tenant_id, 'test', 'test', 'a test event sent by hand', $1, \
                 'pending', 0, $1, $1 FROM webhook_endpoints WHERE tenant_id = $2 AND id = $3",
            )
            .bind(at.0)
            .bind(tenant)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        match inserted {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
}
