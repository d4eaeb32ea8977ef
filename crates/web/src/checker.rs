//! The mail tester over the API (SPEC S7, S8.1): test addresses, the closed-loop test mailing,
//! and the reports of what arrived.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_domain::CheckerReportId;
use sealpost_service::lists::{self, ListOrder};
use sealpost_views::mail_tester::{CheckerReportView, TestAddressView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::paging::Paged;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/checker/addresses", post(issue_address))
        .route("/api/v1/checker/test-mailings", post(send_test_mailing))
        .route("/api/v1/checker/reports", get(list_reports))
        .route("/api/v1/checker/reports/{id}", get(show_report))
        .route("/api/v1/checker/reports/{id}/raw", get(raw_report))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestMailingRequest {
    /// The sender address to test, such as `noreply@client.example`; its domain must be
    /// proven by the tenant.
    #[schema(
        pattern = "^[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$",
        max_length = 254
    )]
    pub sender: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only the reports of this test address's token.
    pub token: Option<String>,
    /// How many reports a page holds (50 when absent).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `X-Next-Cursor` header of the page before; absent for the first page.
    pub cursor: Option<String>,
    /// Only reports whose MAIL FROM, HELO name or client address contains this text (ignoring
    /// ASCII case).
    #[param(max_length = 200)]
    pub q: Option<String>,
}

fn report_id(text: &str) -> Result<CheckerReportId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::not_found("checker report"))
}

/// Issues a fresh test address; mail sent to it is analysed and reported.
#[utoipa::path(post, path = "/api/v1/checker/addresses", tag = "checker",
    security(("api_key" = [])),
    responses((status = 201, body = TestAddressView), (status = 409, body = ErrorBody)))]
pub async fn issue_address(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<TestAddressView>), ApiError> {
    let address = state
        .service
        .mail_tester()
        .issue_test_address(tenant)
        .await?;
    Ok((StatusCode::CREATED, Json(address.into())))
}

/// Sends a test mailing from `sender` to a fresh test address through the normal path
/// (signing, queue, delivery route); poll the reports with its token (SPEC S5.4, S7.3).
#[utoipa::path(post, path = "/api/v1/checker/test-mailings", tag = "checker",
    security(("api_key" = [])), request_body = TestMailingRequest,
    responses((status = 202, body = TestAddressView),
        (status = 403, body = ErrorBody, description = "the From or MAIL FROM domain is one the tenant has not proven"),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_test_mailing(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<TestMailingRequest>,
) -> Result<(StatusCode, Json<TestAddressView>), ApiError> {
    let address = state
        .service
        .mail_tester()
        .send_test_mailing(tenant, &request.sender)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(address.into())))
}

/// The tenant's reports, newest first, a page at a time, with `X-Total-Count` and
/// `X-Next-Cursor` as the message list has them.
#[utoipa::path(get, path = "/api/v1/checker/reports", tag = "checker",
    security(("api_key" = [])), params(ReportQuery),
    responses((status = 200, body = [CheckerReportView], headers(
            ("X-Total-Count" = u64, description = "How many reports match on all pages"),
            ("X-Next-Cursor" = String, description = "The cursor of the next page; absent on the last page"))),
        (status = 422, body = ErrorBody)))]
pub async fn list_reports(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Query(query): Query<ReportQuery>,
) -> Result<Paged<CheckerReportView>, ApiError> {
    let request = lists::page_request(
        query.limit.as_deref(),
        query.cursor.as_deref(),
        50,
        ListOrder::Newest,
    )?;
    let search = lists::search(query.q.as_deref())?;
    let page = state
        .service
        .mail_tester()
        .checker_report_page(tenant, query.token.as_deref(), search.as_deref(), &request)
        .await?;
    Ok(Paged(page.map(Into::into)))
}

#[utoipa::path(get, path = "/api/v1/checker/reports/{id}", tag = "checker",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = CheckerReportView), (status = 404, body = ErrorBody)))]
pub async fn show_report(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CheckerReportView>, ApiError> {
    let report = state
        .service
        .mail_tester()
        .checker_report(tenant, report_id(&id)?)
        .await?;
    Ok(Json(report.into()))
}

/// The message exactly as it arrived at the test address.
#[utoipa::path(get, path = "/api/v1/checker/reports/{id}/raw", tag = "checker",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, content_type = "message/rfc822", body = String),
        (status = 404, body = ErrorBody)))]
pub async fn raw_report(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let raw = state
        .service
        .mail_tester()
        .checker_report_raw(tenant, report_id(&id)?)
        .await?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], raw))
}
