//! Webhook endpoints and their delivery log as they leave Sealpost. No view has a field for a
//! stored secret: the secret leaves only in [`NewSecretView`], once, when it is made.

use sealpost_domain::WebhookEndpoint;
use sealpost_store::{WebhookAttemptRecord, WebhookDeliveryRecord};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A tenant's webhook endpoint.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    /// The event types it receives; `["*"]` for every type.
    pub event_types: Vec<&'static str>,
    pub enabled: bool,
    /// Why the platform switched it off (days without a successful delivery).
    pub disabled_reason: Option<String>,
    /// Until when the previous secret still signs beside the current one (seconds since the
    /// Unix epoch), after a rotation.
    pub previous_secret_until: Option<i64>,
    pub created_at: i64,
}

impl From<&WebhookEndpoint> for WebhookView {
    fn from(endpoint: &WebhookEndpoint) -> Self {
        Self {
            id: endpoint.id.to_string(),
            url: endpoint.url.clone(),
            event_types: endpoint.event_types.names(),
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason.clone(),
            previous_secret_until: endpoint.previous_until.map(|until| until.0),
            created_at: endpoint.created_at.0,
        }
    }
}

/// A signing secret, shown once: keep it where the receiving application verifies signatures.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewSecretView {
    /// `whsec_` and the base64 of the key, as the Standard Webhooks libraries take it.
    pub secret: String,
}

/// A new endpoint with its secret, shown once.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewWebhookView {
    pub webhook: WebhookView,
    pub secret: String,
}

/// One event for one endpoint, with where its delivery stands.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookDeliveryView {
    pub id: i64,
    pub event_type: String,
    pub message_id: Option<String>,
    /// `pending` (sent or tried again at `next_attempt_at`), `delivered`, or `failed` (given up
    /// after the retry window; it can be replayed).
    #[cfg_attr(feature = "openapi", schema(pattern = "^(pending|delivered|failed)$"))]
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    /// The last answer: an HTTP status, or why none came.
    pub last_status: Option<String>,
    pub event_at: i64,
}

impl From<&WebhookDeliveryRecord> for WebhookDeliveryView {
    fn from(record: &WebhookDeliveryRecord) -> Self {
        Self {
            id: record.id,
            event_type: record.event_type.clone(),
            message_id: record.message_id.map(|id| id.to_string()),
            state: record.state.clone(),
            attempts: record.attempts,
            next_attempt_at: record.next_attempt_at,
            last_status: record.last_status.clone(),
            event_at: record.event_at,
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookAttemptView {
    pub at: i64,
    /// The HTTP status, or none when no answer came.
    pub status: Option<i32>,
    pub latency_ms: i64,
    /// The start of the answer's body.
    pub response: String,
    /// Why no answer came.
    pub error: Option<String>,
}

impl From<&WebhookAttemptRecord> for WebhookAttemptView {
    fn from(record: &WebhookAttemptRecord) -> Self {
        Self {
            at: record.at,
            status: record.status,
            latency_ms: record.latency_ms,
            response: record.response.clone(),
            error: record.error.clone(),
        }
    }
}
