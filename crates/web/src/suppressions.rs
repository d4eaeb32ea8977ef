//! Tenant routes: the suppression list (SPEC S10.3). Entries are listed, added, read and removed
//! by address; the whole list is imported from and exported as CSV. An address the tenant does
//! not have on its list is not found.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use sealpost_views::suppressions::{ImportView, SuppressionView};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::{ApiError, AppState};

/// An import may carry a CSV of up to its limit, which the service counts on the text; JSON
/// escaping may make the request a little larger.
pub const IMPORT_LIMIT_BYTES: usize =
    sealpost_domain::limits::suppression_import::MAX_BYTES / 4 * 5 + 64 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/suppressions", get(list).post(create))
        .route("/api/v1/suppressions/import", post(import))
        .route("/api/v1/suppressions/export", get(export))
        .route("/api/v1/suppressions/{address}", get(show).delete(remove))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSuppressionRequest {
    /// The address to stop mailing.
    #[schema(
        pattern = "^[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$",
        max_length = 254
    )]
    pub address: String,
    /// `hard_bounce`, `complaint`, `unsubscribe` or `manual` (the default).
    #[serde(default)]
    #[schema(pattern = "^(hard_bounce|complaint|unsubscribe|manual)?$")]
    pub reason: String,
    /// A note: why the address was added.
    #[serde(default)]
    #[schema(pattern = "^[ -~]{0,200}$", max_length = 500)]
    pub detail: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// The CSV: one entry per line, columns `address`, `reason`, `detail` (a first line naming
    /// the columns is optional; an export's `created_at` and `message_id` are ignored). A CSV
    /// with any bad line is refused whole, naming each bad line, and nothing is stored.
    #[schema(example = "address,reason\ngone@client.example,hard_bounce\n")]
    pub csv: String,
}

#[utoipa::path(get, path = "/api/v1/suppressions", tag = "suppressions",
    security(("api_key" = [])), responses((status = 200, body = [SuppressionView]),
        (status = 401, body = ErrorBody)))]
pub async fn list(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<Vec<SuppressionView>>, ApiError> {
    let entries = state.service.feedback().list_suppressions(tenant).await?;
    Ok(Json(entries.iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/suppressions", tag = "suppressions",
    security(("api_key" = [])), request_body = NewSuppressionRequest,
    responses((status = 201, body = SuppressionView,
            description = "on the list (an address already on it keeps its entry, which is returned)"),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<NewSuppressionRequest>,
) -> Result<(StatusCode, Json<SuppressionView>), ApiError> {
    let entry = state
        .service
        .feedback()
        .add_suppression(tenant, &request.address, &request.reason, &request.detail)
        .await?;
    Ok((StatusCode::CREATED, Json((&entry).into())))
}

#[utoipa::path(get, path = "/api/v1/suppressions/{address}", tag = "suppressions",
    security(("api_key" = [])),
    params(("address" = String, Path, pattern = "^[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$", max_length = 254)),
    responses((status = 200, body = SuppressionView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(address): Path<String>,
) -> Result<Json<SuppressionView>, ApiError> {
    let entry = state
        .service
        .feedback()
        .find_suppression(tenant, &address)
        .await?;
    Ok(Json((&entry).into()))
}

#[utoipa::path(delete, path = "/api/v1/suppressions/{address}", tag = "suppressions",
    security(("api_key" = [])),
    params(("address" = String, Path, pattern = "^[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$", max_length = 254)),
    responses((status = 204, description = "removed: mail to the address is sent again"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn remove(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(address): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .feedback()
        .remove_suppression(tenant, &address)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/suppressions/import", tag = "suppressions",
    security(("api_key" = [])), request_body = ImportRequest,
    responses((status = 200, body = ImportView, description = "every entry stored"),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "bad lines, each named; nothing stored")))]
pub async fn import(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ImportRequest>,
) -> Result<Json<ImportView>, ApiError> {
    let summary = state
        .service
        .feedback()
        .import_suppressions(tenant, &request.csv)
        .await?;
    Ok(Json(ImportView {
        read: summary.read,
        added: summary.added,
    }))
}

#[utoipa::path(get, path = "/api/v1/suppressions/export", tag = "suppressions",
    security(("api_key" = [])),
    responses((status = 200, content_type = "text/csv", body = String,
            description = "the list as CSV: address, reason, detail, created_at, message_id"),
        (status = 401, body = ErrorBody)))]
pub async fn export(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let text = state.service.feedback().export_suppressions(tenant).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"suppressions.csv\"",
            ),
        ],
        text,
    ))
}
