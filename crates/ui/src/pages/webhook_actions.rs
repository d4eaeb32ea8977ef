//! What a person can do about one webhook endpoint: switch it on or off, send a test event,
//! send again a delivery that was given up on, and delete it (behind a confirmation). Each is a
//! form on the endpoint's page that leads back to it with a notice (post, redirect, get); a GET
//! of an action's address only leads back to the page, so following a link never acts.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_service::ServiceError;
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::form_errors::full_stop;
use crate::pages::tenant_path;
use crate::pages::webhooks::{EndpointShown, endpoint_page};
use crate::session::Scope;

#[derive(Deserialize)]
pub struct EnabledForm {
    /// "true" to switch on, anything else to switch off.
    enabled: String,
}

/// Back to the endpoint's page with the notice named by `code`.
fn done(scope: &Scope, id: &str, code: &str) -> Response {
    Redirect::to(&format!(
        "{}/webhooks/{id}?notice={code}",
        tenant_path(scope)
    ))
    .into_response()
}

pub async fn set_enabled(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<EnabledForm>,
) -> Result<Response, PageError> {
    let enabled = form.enabled == "true";
    state
        .service
        .webhooks()
        .update_webhook(scope.tenant.id, &id, None, None, Some(enabled))
        .await?;
    Ok(done(&scope, &id, if enabled { "on" } else { "off" }))
}

pub async fn send_test(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    state
        .service
        .webhooks()
        .send_test_event(scope.tenant.id, &id)
        .await?;
    Ok(done(&scope, &id, "test"))
}

/// Sends again a delivery that was given up on; one that is no longer given up on (another tab
/// sent it again) is refused with the reason on the endpoint's page.
pub async fn replay(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id, delivery)): Path<(String, String, i64)>,
) -> Result<Response, PageError> {
    match state
        .service
        .webhooks()
        .replay_webhook_delivery(scope.tenant.id, &id, delivery)
        .await
    {
        Ok(()) => Ok(done(&scope, &id, "replayed")),
        Err(error @ ServiceError::Conflict(_)) => {
            let (status, message) = service_status(&error);
            let shown = EndpointShown {
                error: Some(full_stop(&message)),
                ..EndpointShown::default()
            };
            endpoint_page(&state, &scope, &id, status, shown).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn delete(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    state
        .service
        .webhooks()
        .delete_webhook(scope.tenant.id, &id)
        .await?;
    Ok(Redirect::to(&format!("{}/webhooks?notice=deleted", tenant_path(&scope))).into_response())
}

/// A GET of an action's address (a bookmark, a reload) shows the endpoint and does nothing.
pub async fn to_endpoint(scope: Scope, Path(path): Path<Vec<(String, String)>>) -> Response {
    let id = path
        .iter()
        .find(|(name, _)| name == "id")
        .map_or("", |(_, value)| value.as_str());
    Redirect::to(&format!("{}/webhooks/{id}", tenant_path(&scope))).into_response()
}
