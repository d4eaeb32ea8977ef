//! Operator routes: the platform's own health, as `sealpost doctor` reports it, and the
//! destinations the delivering nodes send to, as `sealpost destinations` lists them.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use sealpost_service::platform::Reach;
use sealpost_views::destinations::{DestinationView, DestinationsView};
use sealpost_views::platform::PlatformHealthView;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Operator;
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/platform/health", get(health))
        .route("/api/v1/platform/destinations", get(destinations))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthQuery {
    /// `true` skips the outbound SMTP check, which connects to a remote mail server.
    #[param(value_type = Option<bool>)]
    offline: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/platform/health", tag = "platform",
    security(("operator" = [])), params(HealthQuery),
    responses((status = 200, body = PlatformHealthView,
        description = "Every check with what it found and what to fix; `verdict` is green, to_fix or unchecked"),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "offline is neither true nor false")))]
pub async fn health(
    _: Operator,
    State(state): State<AppState>,
    Query(query): Query<HealthQuery>,
) -> Result<Json<PlatformHealthView>, ApiError> {
    let reach = match query.offline.as_deref() {
        None | Some("false") => Reach::Online,
        Some("true") => Reach::Offline,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("offline: {other:?} is neither true nor false"),
            ));
        }
    };
    let health = state.service.platform().health(reach).await;
    Ok(Json(PlatformHealthView::from(&health)))
}

#[utoipa::path(get, path = "/api/v1/platform/destinations", tag = "platform",
    security(("operator" = [])),
    responses((status = 200, body = DestinationsView,
        description = "Every destination a delivering node sent to in the last minute: its \
            connections, limits, throttle state and the recipients waiting for it"),
        (status = 401, body = ErrorBody)))]
pub async fn destinations(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<DestinationsView>, ApiError> {
    let reports = state.service.platform().destinations().await?;
    Ok(Json(DestinationsView {
        destinations: reports.iter().map(DestinationView::from).collect(),
    }))
}
