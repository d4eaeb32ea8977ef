//! DKIM verification of an uploaded raw message (SPEC S5.5): the support path's "why does this
//! message fail" for any message a tenant has at hand.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use sealpost_views::dkim_verification::VerificationView;
use utoipa::ToSchema;

use crate::auth::TenantAuth;
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

/// The body's schema: header fields (a name of printable ASCII but the colon, a colon, the
/// value, folded lines starting with a space or TAB), then an empty line and the body.
#[derive(ToSchema)]
#[schema(
    pattern = "^[!-9;-~]+:[^\\r\\n]*(?:\\r?\\n(?:[!-9;-~]+:|[ \\t])[^\\r\\n]*)*(?:\\r?\\n(?:\\r?\\n[\\s\\S]*)?)?$"
)]
#[expect(dead_code, reason = "only the OpenAPI document names this type")]
pub(crate) struct RawMessageText(String);

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/dkim/verify", post(verify))
}

/// Verifies every DKIM-Signature of the raw RFC 5322 message in the request body (any content
/// type; `message/rfc822` fits), with keys from DNS.
#[utoipa::path(post, path = "/api/v1/dkim/verify", tag = "dkim",
    security(("api_key" = [])),
    request_body(content((RawMessageText = "message/rfc822"), (RawMessageText = "text/plain")),
        description = "The raw message, headers and body"),
    responses((status = 200, body = VerificationView), (status = 422, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub async fn verify(
    TenantAuth(_tenant): TenantAuth,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<VerificationView>, ApiError> {
    let report = state.service.submissions().verify_message(&body).await?;
    Ok(Json(VerificationView::from(&report)))
}
