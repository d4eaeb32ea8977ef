//! Operator routes: tenants, their API keys and their reputation (SPEC S10.5: why a tenant's
//! sending is paused, and resuming it); and a tenant's own reputation.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use sealpost_views::reputation::ReputationView;
use sealpost_views::tenants::{ApiKeyView, NewApiKeyView, TenantView};

use crate::auth::{Operator, TenantAuth};
use crate::error::{ApiJson, ErrorBody};
use crate::requests::{NewApiKeyRequest, NewTenantRequest};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tenants", get(list).post(create))
        .route("/api/v1/tenants/{tenant}", get(show).delete(remove))
        .route(
            "/api/v1/tenants/{tenant}/api-keys",
            get(list_keys).post(create_key),
        )
        .route(
            "/api/v1/tenants/{tenant}/api-keys/{key}",
            delete(revoke_key),
        )
        .route("/api/v1/tenants/{tenant}/reputation", get(reputation))
        .route("/api/v1/tenants/{tenant}/resume", post(resume))
        .route("/api/v1/reputation", get(own_reputation))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/reputation", tag = "tenants",
    security(("operator" = [])), params(("tenant" = String, Path, description = "id or name", pattern = "^[a-z0-9][a-z0-9-]{0,62}$")),
    responses((status = 200, body = ReputationView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the path is neither a tenant id nor a valid tenant name")))]
pub async fn reputation(
    _: Operator,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Json<ReputationView>, ApiError> {
    let tenant = state.service.accounts().find_tenant(&tenant).await?;
    let reputation = state.service.feedback().reputation(tenant.id).await?;
    Ok(Json((&reputation).into()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/resume", tag = "tenants",
    security(("operator" = [])), params(("tenant" = String, Path, description = "id or name", pattern = "^[a-z0-9][a-z0-9-]{0,62}$")),
    responses((status = 200, body = ReputationView,
            description = "resumed: held mail goes out, expiring later by as long as it was held"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the tenant's sending is not paused"),
        (status = 422, body = ErrorBody, description = "the path is neither a tenant id nor a valid tenant name")))]
pub async fn resume(
    _: Operator,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Json<ReputationView>, ApiError> {
    let tenant = state.service.accounts().find_tenant(&tenant).await?;
    let feedback = state.service.feedback();
    feedback.resume_sending(tenant.id).await?;
    Ok(Json((&feedback.reputation(tenant.id).await?).into()))
}

/// The calling tenant's own standing: whether its mail flows, is warned, or is held.
#[utoipa::path(get, path = "/api/v1/reputation", tag = "reputation",
    security(("api_key" = [])), responses((status = 200, body = ReputationView)))]
pub async fn own_reputation(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<ReputationView>, ApiError> {
    let reputation = state.service.feedback().reputation(tenant).await?;
    Ok(Json((&reputation).into()))
}

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants",
    security(("operator" = [])),
    responses((status = 200, body = [TenantView]), (status = 401, body = ErrorBody)))]
pub async fn list(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<Vec<TenantView>>, ApiError> {
    let tenants = state.service.accounts().list_tenants().await?;
    Ok(Json(tenants.into_iter().map(TenantView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants",
    security(("operator" = [])), request_body = NewTenantRequest,
    responses((status = 201, body = TenantView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<NewTenantRequest>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    let tenant = state
        .service
        .accounts()
        .create_tenant(&request.name, &request.display_name)
        .await?;
    Ok((StatusCode::CREATED, Json(tenant.into())))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    security(("operator" = [])), params(("tenant" = String, Path, description = "id or name", pattern = "^[a-z0-9][a-z0-9-]{0,62}$")),
    responses((status = 200, body = TenantView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the path is neither a tenant id nor a valid tenant name, or (on creation) the label is invalid")))]
pub async fn show(
    _: Operator,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(
        state.service.accounts().find_tenant(&tenant).await?.into(),
    ))
}

/// Deletes the tenant and all its data (SPEC S11.5): its keys and secrets are shredded first,
/// then every row of it is removed. Mail being delivered at that moment may still go out.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    security(("operator" = [])), params(("tenant" = String, Path, description = "id or name", pattern = "^[a-z0-9][a-z0-9-]{0,62}$")),
    responses((status = 204, description = "deleted, with its keys, messages, contacts, users and API keys"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the path is neither a tenant id nor a valid tenant name")))]
pub async fn remove(
    _: Operator,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<StatusCode, ApiError> {
    let accounts = state.service.accounts();
    let tenant = accounts.find_tenant(&tenant).await?;
    accounts.delete_tenant(&tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/api-keys", tag = "tenants",
    security(("operator" = [])), params(("tenant" = String, Path, description = "id or name", pattern = "^[a-z0-9][a-z0-9-]{0,62}$")),
    responses((status = 200, body = [ApiKeyView]), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the path is neither a tenant id nor a valid tenant name, or (on creation) the label is invalid")))]
pub async fn list_keys(
    _: Operator,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
    let tenant = state.service.accounts().find_tenant(&tenant).await?;
    let keys = state.service.accounts().list_api_keys(tenant.id).await?;
    Ok(Json(keys.into_iter().map(ApiKeyView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/api-keys", tag = "tenants",
    security(("operator" = [])), params(("tenant" = String, Path, description = "id or name", pattern = "^[a-z0-9][a-z0-9-]{0,62}$")),
    request_body = NewApiKeyRequest,
    responses((status = 201, body = NewApiKeyView, description = "the token is shown only here"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the path is neither a tenant id nor a valid tenant name, or (on creation) the label is invalid")))]
pub async fn create_key(
    _: Operator,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    ApiJson(request): ApiJson<NewApiKeyRequest>,
) -> Result<(StatusCode, Json<NewApiKeyView>), ApiError> {
    let tenant = state.service.accounts().find_tenant(&tenant).await?;
    let key = state
        .service
        .accounts()
        .create_api_key(tenant.id, &request.label)
        .await?;
    Ok((StatusCode::CREATED, Json(key.into())))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/api-keys/{key}", tag = "tenants",
    security(("operator" = [])),
    params(("tenant" = String, Path, description = "id or name", pattern = "^[a-z0-9][a-z0-9-]{0,62}$"), ("key" = String, Path, format = Uuid)),
    responses((status = 204, description = "revoked; the token stops working at once"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the path is neither a tenant id nor a valid tenant name, or (on creation) the label is invalid")))]
pub async fn revoke_key(
    _: Operator,
    State(state): State<AppState>,
    Path((tenant, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = state.service.accounts().find_tenant(&tenant).await?;
    state
        .service
        .accounts()
        .revoke_api_key(tenant.id, &key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
