//! One module per section of the UI; each holds its handlers and the views its templates show.

pub mod account;
pub mod api_keys;
pub mod checker;
pub mod contact_list;
pub mod contacts;
pub mod dashboard;
pub mod destinations;
pub mod dns_check;
pub mod dns_handoff;
pub mod dns_records;
pub mod domain_keys;
pub mod domains;
pub mod key_rotation;
pub mod login;
pub mod mailings;
pub mod message_actions;
pub mod messages;
pub mod pager;
pub mod platform_health;
pub mod reputation;
pub mod return_path;
pub mod sending_domains;
pub mod settings;
pub mod suppressions;
pub mod tenant_deletion;
pub mod troubleshoot;
pub mod webhook_actions;
pub mod webhook_events;
pub mod webhooks;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use sealpost_service::ServiceError;

use crate::error::PageError;

/// A read of the service as a part of a page, failing as the page does: the parts of a page
/// are read at once (`tokio::try_join!`), so the page waits for the slowest read rather than
/// the sum of them.
pub async fn page_part<T>(
    read: impl Future<Output = Result<T, ServiceError>>,
) -> Result<T, PageError> {
    Ok(read.await?)
}

/// Renders a page with a status; the one place templates become responses.
pub fn render(status: StatusCode, template: &impl Template) -> Result<Response, PageError> {
    Ok((status, Html(template.render()?)).into_response())
}

/// The base path of a tenant's pages.
pub fn tenant_path(scope: &crate::session::Scope) -> String {
    format!("/t/{}", scope.tenant.name.as_str())
}

/// Any other address under a tenant: the UI's own 404 page, after the same sign-in and access
/// checks as every tenant page, rather than the JSON API's answer for an unknown route.
pub async fn not_found(_scope: crate::session::Scope) -> PageError {
    PageError::NotFound
}
