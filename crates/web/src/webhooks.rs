//! Tenant routes: webhook endpoints (SPEC S10.6). An endpoint is added with the event types it
//! wants and answered with its signing secret, once; the secret can be rotated (the old one keeps
//! signing for a day); a test event can be sent; the delivery log shows each event's state and
//! its attempts, and a delivery that was given up on can be replayed.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use sealpost_views::webhooks::{
    NewSecretView, NewWebhookView, WebhookAttemptView, WebhookDeliveryView, WebhookView,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(create))
        .route(
            "/api/v1/webhooks/{id}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/v1/webhooks/{id}/rotate-secret", post(rotate_secret))
        .route("/api/v1/webhooks/{id}/test", post(send_test))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery}/attempts",
            get(attempts),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery}/replay",
            post(replay),
        )
}

/// A delivery's number from the path; anything else names no delivery.
fn delivery_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| sealpost_service::ServiceError::NotFound("webhook delivery").into())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookRequest {
    /// Where events are POSTed: an https (or http) URL on a public address.
    #[schema(
        pattern = "^https://[a-z]{1,20}\\.example/[a-z]{0,20}$",
        max_length = 2000
    )]
    pub url: String,
    /// The event types to receive, such as `message.delivered`, `message.bounced`,
    /// `key.active`, `domain.failed`; none (or `*`) for every type.
    #[serde(default)]
    #[schema(
        pattern = "^(\\*|message\\.(accepted|delivered|deferred|failed|expired|bounced|soft_bounced|complained|suppressed|unsubscribed|retried|cancelled)|key\\.(pending|active|retiring|retired)|domain\\.(pending|verified|warning|failed|activated|deactivated)|test)$"
    )]
    pub event_types: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[schema(
        pattern = "^https://[a-z]{1,20}\\.example/[a-z]{0,20}$",
        max_length = 2000
    )]
    pub url: Option<String>,
    #[schema(
        pattern = "^(\\*|message\\.(accepted|delivered|deferred|failed|expired|bounced|soft_bounced|complained|suppressed|unsubscribed|retried|cancelled)|key\\.(pending|active|retiring|retired)|domain\\.(pending|verified|warning|failed|activated|deactivated)|test)$"
    )]
    pub event_types: Option<Vec<String>>,
    /// Switch it off, or on again (events that waited go out then).
    pub enabled: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    security(("api_key" = [])), responses((status = 200, body = [WebhookView])))]
pub async fn list(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let endpoints = state.service.webhooks().list_webhooks(tenant).await?;
    Ok(Json(endpoints.iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    security(("api_key" = [])), request_body = NewWebhookRequest,
    responses((status = 201, body = NewWebhookView,
            description = "added; the secret is shown this once"),
        (status = 422, body = ErrorBody,
            description = "a URL that is not http(s), has credentials or a private address; an \
                unknown event type")))]
pub async fn create(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<NewWebhookRequest>,
) -> Result<(StatusCode, Json<NewWebhookView>), ApiError> {
    let created = state
        .service
        .webhooks()
        .create_webhook(tenant, &request.url, &request.event_types)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewWebhookView {
            webhook: (&created.endpoint).into(),
            secret: created.secret,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let endpoint = state.service.webhooks().webhook(tenant, &id).await?;
    Ok(Json((&endpoint).into()))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookView>, ApiError> {
    let endpoint = state
        .service
        .webhooks()
        .update_webhook(
            tenant,
            &id,
            request.url.as_deref(),
            request.event_types.as_deref(),
            request.enabled,
        )
        .await?;
    Ok(Json((&endpoint).into()))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "removed, with its undelivered events and its log"),
        (status = 404, body = ErrorBody)))]
pub async fn remove(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.webhooks().delete_webhook(tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = NewSecretView,
            description = "the new secret, shown this once; the old one signs beside it for a day"),
        (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<NewSecretView>, ApiError> {
    let secret = state
        .service
        .webhooks()
        .rotate_webhook_secret(tenant, &id)
        .await?;
    Ok(Json(NewSecretView { secret }))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 202, description = "a `test` event is queued for the endpoint"),
        (status = 404, body = ErrorBody)))]
pub async fn send_test(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .webhooks()
        .send_test_event(tenant, &id)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = [WebhookDeliveryView],
            description = "the newest 100 events for the endpoint, newest first"),
        (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<WebhookDeliveryView>>, ApiError> {
    let rows = state
        .service
        .webhooks()
        .webhook_deliveries(tenant, &id)
        .await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/attempts",
    tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path, format = Uuid), ("delivery" = i64, Path, minimum = 1, maximum = 2147483647)),
    responses((status = 200, body = [WebhookAttemptView]), (status = 404, body = ErrorBody)))]
pub async fn attempts(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Json<Vec<WebhookAttemptView>>, ApiError> {
    let rows = state
        .service
        .webhooks()
        .webhook_attempts(tenant, &id, delivery_id(&delivery)?)
        .await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/replay",
    tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path, format = Uuid), ("delivery" = i64, Path, minimum = 1, maximum = 2147483647)),
    responses((status = 202, description = "queued again"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "only a delivery that was given up on can be replayed")))]
pub async fn replay(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .webhooks()
        .replay_webhook_delivery(tenant, &id, delivery_id(&delivery)?)
        .await?;
    Ok(StatusCode::ACCEPTED)
}
