//! Tenant routes: the return-path domain of a signing domain (SPEC S10.1), by the signing
//! domain's name. Setting one answers the MX and SPF records to publish; a check looks them up
//! and, when both are right, mail from that domain goes out with a VERP MAIL FROM there.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use sealpost_service::{ReturnPathCheck, ReturnPathRecord};
use sealpost_views::return_paths::{ReturnPathRecordView, ReturnPathView};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/return-paths/{domain}",
            get(show).put(set).delete(remove),
        )
        .route("/api/v1/return-paths/{domain}/check", post(check))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetReturnPathRequest {
    /// A subdomain of the signing domain, such as `bounces.client.example`.
    #[schema(pattern = "^(?:[a-z0-9]{1,20}\\.){2,3}[a-z]{2,10}$", max_length = 253)]
    pub return_path: String,
}

fn record_view(
    record: &ReturnPathRecord,
    found: Option<&Result<(), String>>,
) -> ReturnPathRecordView {
    ReturnPathRecordView {
        name: record.name.clone(),
        kind: record.kind,
        value: record.value.clone(),
        found: found.map(Result::is_ok),
        problem: found.and_then(|found| found.clone().err()),
    }
}

#[utoipa::path(get, path = "/api/v1/return-paths/{domain}", tag = "return paths",
    security(("api_key" = [])), params(("domain" = String, Path, pattern = "^(?:[a-z0-9]{1,20}\\.){1,3}[a-z]{2,10}$")),
    responses((status = 200, body = ReturnPathView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(domain): Path<String>,
) -> Result<Json<ReturnPathView>, ApiError> {
    let feedback = state.service.feedback();
    let entry = feedback.return_path(tenant, &domain).await?;
    let records = feedback.records_to_publish(&entry);
    let views = records
        .iter()
        .map(|record| record_view(record, None))
        .collect();
    Ok(Json(ReturnPathView::new(&entry, views)))
}

#[utoipa::path(put, path = "/api/v1/return-paths/{domain}", tag = "return paths",
    security(("api_key" = [])), params(("domain" = String, Path, pattern = "^(?:[a-z0-9]{1,20}\\.){1,3}[a-z]{2,10}$")),
    request_body = SetReturnPathRequest,
    responses((status = 200, body = ReturnPathView,
            description = "set (unverified until a check finds its records)"),
        (status = 404, body = ErrorBody, description = "no signing domain of that name"),
        (status = 409, body = ErrorBody,
            description = "the return-path domain belongs to another signing domain"),
        (status = 422, body = ErrorBody, description = "not a subdomain of the signing domain")))]
pub async fn set(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(domain): Path<String>,
    ApiJson(request): ApiJson<SetReturnPathRequest>,
) -> Result<Json<ReturnPathView>, ApiError> {
    let feedback = state.service.feedback();
    let entry = feedback
        .set_return_path(tenant, &domain, &request.return_path)
        .await?;
    let records = feedback.records_to_publish(&entry);
    let views = records
        .iter()
        .map(|record| record_view(record, None))
        .collect();
    Ok(Json(ReturnPathView::new(&entry, views)))
}

#[utoipa::path(delete, path = "/api/v1/return-paths/{domain}", tag = "return paths",
    security(("api_key" = [])), params(("domain" = String, Path, pattern = "^(?:[a-z0-9]{1,20}\\.){1,3}[a-z]{2,10}$")),
    responses((status = 204, description = "removed: mail keeps its own MAIL FROM"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(domain): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .feedback()
        .remove_return_path(tenant, &domain)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/return-paths/{domain}/check", tag = "return paths",
    security(("api_key" = [])), params(("domain" = String, Path, pattern = "^(?:[a-z0-9]{1,20}\\.){1,3}[a-z]{2,10}$")),
    responses((status = 200, body = ReturnPathView, description = "each record with what DNS shows"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "the platform has no inbound host configured to receive bounces"),
        (status = 422, body = ErrorBody)))]
pub async fn check(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(domain): Path<String>,
) -> Result<Json<ReturnPathView>, ApiError> {
    let ReturnPathCheck {
        return_path,
        records,
    } = state
        .service
        .feedback()
        .check_return_path(tenant, &domain)
        .await?;
    let views = records
        .iter()
        .map(|(record, found)| record_view(record, Some(found)))
        .collect();
    Ok(Json(ReturnPathView::new(&return_path, views)))
}
