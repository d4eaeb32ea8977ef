//! The HTTP JSON API (SPEC S8.1): the only crate that knows HTTP. Handlers translate requests
//! into calls of the shared service and its results into JSON; the OpenAPI document at
//! `/openapi.json` describes every route.

mod api_errors;
mod auth;
mod checker;
mod contacts;
mod dkim;
mod error;
mod mailings;
mod message_requests;
mod messages;
mod openapi;
mod paging;
mod platform;
mod requests;
mod return_paths;
mod schema_rules;
mod sending_domains;
pub mod serve;
mod settings;
mod signing_domains;
mod signing_keys;
mod suppressions;
mod tenants;
mod troubleshoot;
mod unsubscribe;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use sealpost_service::Service;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// JSON request bodies carry at most a pasted PEM key; anything larger is refused before parsing.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Message requests carry a message of up to the message limit, which the service counts on
/// the message itself; the request around it may be larger by base64 (4/3) or JSON escaping, so
/// the transport allows half as much again and a little for the other fields.
const MESSAGE_LIMIT_BYTES: usize = sealpost_domain::limits::message::MAX_BYTES / 2 * 3 + 64 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub service: Service,
    /// The operator's bearer token; without one, operator routes answer 401.
    pub operator_token: Option<Arc<str>>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/openapi.json", get(openapi::document))
        .route("/metrics", get(metrics))
        .merge(tenants::routes())
        .merge(signing_domains::routes())
        .merge(signing_keys::routes())
        .merge(sending_domains::routes())
        .merge(settings::routes())
        .merge(mailings::routes())
        .merge(contacts::routes())
        .merge(checker::routes())
        .merge(troubleshoot::routes())
        .merge(platform::routes())
        .merge(webhooks::routes())
        .merge(return_paths::routes())
        .merge(unsubscribe::routes())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(from_fn_with_state(
            BODY_LIMIT_BYTES,
            api_errors::json_errors,
        ))
        .merge(
            dkim::routes()
                .merge(messages::routes())
                .layer(RequestBodyLimitLayer::new(MESSAGE_LIMIT_BYTES))
                .layer(DefaultBodyLimit::disable())
                .layer(from_fn_with_state(
                    MESSAGE_LIMIT_BYTES,
                    api_errors::json_errors,
                )),
        )
        .merge(
            suppressions::routes()
                .layer(RequestBodyLimitLayer::new(suppressions::IMPORT_LIMIT_BYTES))
                .layer(DefaultBodyLimit::disable())
                .layer(from_fn_with_state(
                    suppressions::IMPORT_LIMIT_BYTES,
                    api_errors::json_errors,
                )),
        )
        .fallback(|| async { ApiError::not_found("route") })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Prometheus metrics (counters of this node, the shared queue's depth and age). Scraped with
/// the operator token as bearer token, so tenant figures are not public.
async fn metrics(
    _operator: auth::Operator,
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let text = state.service.messages().metrics_text().await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
