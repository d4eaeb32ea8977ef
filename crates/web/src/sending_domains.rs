//! Tenant routes: sending domains, the domains a tenant has proven it controls and so may use in
//! From and MAIL FROM. A domain is named in the path; one the tenant does not have is not found.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use sealpost_views::sending_domains::SendingDomainView;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sending-domains", get(list).post(create))
        .route("/api/v1/sending-domains/{domain}", get(show).delete(remove))
        .route("/api/v1/sending-domains/{domain}/verify", post(verify))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSendingDomainRequest {
    /// The domain to send as, e.g. `client.example`.
    #[schema(
        pattern = "^(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$",
        max_length = 253
    )]
    pub domain: String,
}

#[utoipa::path(get, path = "/api/v1/sending-domains", tag = "sending domains",
    security(("api_key" = [])), responses((status = 200, body = [SendingDomainView]),
        (status = 401, body = ErrorBody)))]
pub async fn list(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<Vec<SendingDomainView>>, ApiError> {
    let domains = state
        .service
        .signing_domains()
        .list_sending_domains(tenant)
        .await?;
    Ok(Json(domains.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/sending-domains", tag = "sending domains",
    security(("api_key" = [])), request_body = NewSendingDomainRequest,
    responses((status = 201, body = SendingDomainView, description = "added (or already there)"),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<NewSendingDomainRequest>,
) -> Result<(StatusCode, Json<SendingDomainView>), ApiError> {
    let domain = state
        .service
        .signing_domains()
        .add_sending_domain(tenant, &request.domain)
        .await?;
    Ok((StatusCode::CREATED, Json(domain.into())))
}

#[utoipa::path(get, path = "/api/v1/sending-domains/{domain}", tag = "sending domains",
    security(("api_key" = [])), params(("domain" = String, Path, pattern = "^(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$", max_length = 253)),
    responses((status = 200, body = SendingDomainView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(domain): Path<String>,
) -> Result<Json<SendingDomainView>, ApiError> {
    let domain = state
        .service
        .signing_domains()
        .sending_domain(tenant, &domain)
        .await?;
    Ok(Json(domain.into()))
}

#[utoipa::path(post, path = "/api/v1/sending-domains/{domain}/verify", tag = "sending domains",
    security(("api_key" = [])), params(("domain" = String, Path, pattern = "^(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$", max_length = 253)),
    responses((status = 200, body = SendingDomainView, description = "proven"),
        (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "not proven: what DNS showed, and the record to publish"),
        (status = 422, body = ErrorBody, description = "the path does not hold a valid domain name")))]
pub async fn verify(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(domain): Path<String>,
) -> Result<Json<SendingDomainView>, ApiError> {
    let domain = state
        .service
        .signing_domains()
        .verify_sending_domain(tenant, &domain)
        .await?;
    Ok(Json(domain.into()))
}

#[utoipa::path(delete, path = "/api/v1/sending-domains/{domain}", tag = "sending domains",
    security(("api_key" = [])), params(("domain" = String, Path, pattern = "^(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$", max_length = 253)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn remove(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(domain): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .signing_domains()
        .delete_sending_domain(tenant, &domain)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
