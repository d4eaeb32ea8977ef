//! Tenant routes for a signing domain's keys and history (SPEC S11.1): promoting a pending key
//! (when DNS carries it, or by force), one key's DNS record, and the domain's events.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use sealpost_domain::KeyId;
use sealpost_service::DnsGate;
use sealpost_views::signing_domains::{DnsRecordView, DomainEventView, SigningDomainView};

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::requests::PromoteKeyRequest;
use crate::signing_domains::domain_id;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/signing-domains/{id}/keys/{key_id}/promote",
            post(promote),
        )
        .route(
            "/api/v1/signing-domains/{id}/keys/{key_id}/dns-record",
            get(key_record),
        )
        .route("/api/v1/signing-domains/{id}/events", get(events))
}

fn key_id(text: &str) -> Result<KeyId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found("key"))
}

/// Makes a pending key the one that signs; the active key starts retiring in the same change.
#[utoipa::path(post, path = "/api/v1/signing-domains/{id}/keys/{key_id}/promote",
    tag = "signing domains", security(("api_key" = [])),
    params(("id" = String, Path, format = Uuid), ("key_id" = String, Path, format = Uuid)),
    request_body = PromoteKeyRequest,
    responses((status = 200, body = SigningDomainView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "the key is not pending, or DNS does not carry it and force is off")))]
pub async fn promote(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    ApiJson(request): ApiJson<PromoteKeyRequest>,
) -> Result<Json<SigningDomainView>, ApiError> {
    let gate = if request.force {
        DnsGate::Force
    } else {
        DnsGate::RequireRecord
    };
    let domain = state
        .service
        .signing_domains()
        .promote_key(tenant, domain_id(&id)?, key_id(&key)?, gate)
        .await?;
    Ok(Json(domain.into()))
}

/// The TXT record of one key: to publish (pending), to keep (active, retiring) or to delete
/// (retired).
#[utoipa::path(get, path = "/api/v1/signing-domains/{id}/keys/{key_id}/dns-record",
    tag = "signing domains", security(("api_key" = [])),
    params(("id" = String, Path, format = Uuid), ("key_id" = String, Path, format = Uuid)),
    responses((status = 200, body = DnsRecordView), (status = 404, body = ErrorBody)))]
pub async fn key_record(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
) -> Result<Json<DnsRecordView>, ApiError> {
    let record = state
        .service
        .signing_domains()
        .key_record(tenant, domain_id(&id)?, key_id(&key)?)
        .await?;
    Ok(Json(record.into()))
}

/// The domain's history, newest first: every change of a key's or the domain's state.
#[utoipa::path(get, path = "/api/v1/signing-domains/{id}/events", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = [DomainEventView]), (status = 404, body = ErrorBody)))]
pub async fn events(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<DomainEventView>>, ApiError> {
    let history = state
        .service
        .signing_domains()
        .domain_history(tenant, domain_id(&id)?)
        .await?;
    Ok(Json(
        history.into_iter().map(DomainEventView::from).collect(),
    ))
}
