//! The support path of SPEC S5 over the API, the same call as the troubleshooting screen and
//! `sealpost troubleshoot`.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use sealpost_views::troubleshoot::TroubleshootView;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::TenantAuth;
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/troubleshoot", get(troubleshoot))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TroubleshootQuery {
    /// The From address to check, such as `noreply@client.example`.
    #[param(
        pattern = "^[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$",
        max_length = 254
    )]
    pub sender: String,
    /// The envelope sender, when it differs from the From address; empty means the sender.
    #[param(
        pattern = "^(?:[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19})?$",
        max_length = 254
    )]
    pub mail_from: Option<String>,
}

/// Checks one sender end to end: the sender domain, whether From and MAIL FROM domains are
/// active signing domains, and the domain's DNS (DKIM record, SPF, DMARC, MX) with fixes.
#[utoipa::path(get, path = "/api/v1/troubleshoot", tag = "troubleshooting",
    security(("api_key" = [])), params(TroubleshootQuery),
    responses((status = 200, body = TroubleshootView), (status = 422, body = ErrorBody)))]
pub async fn troubleshoot(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Query(query): Query<TroubleshootQuery>,
) -> Result<Json<TroubleshootView>, ApiError> {
    let result = state
        .service
        .messages()
        .troubleshoot(tenant, &query.sender, query.mail_from.as_deref())
        .await?;
    Ok(Json((&result).into()))
}
