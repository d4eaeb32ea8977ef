//! What a person can do about a message still on its way (SPEC S5.5): retry its deferred
//! recipients now, or cancel delivery to every recipient still waiting. Both are forms behind a
//! confirmation on the message page; a GET of their addresses only leads back to the page, so
//! following a link or reloading never acts.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{MessageId, QueuedMessage, RecipientState};

use crate::UiState;
use crate::error::PageError;
use crate::format;
use crate::pages::tenant_path;
use crate::session::Scope;

/// The noun of what the actions count, singular and plural.
const RECIPIENTS: (&str, &str) = ("recipient", "recipients");

/// What the message page offers: how many recipients a retry and a cancellation would touch,
/// each as the store counts them (retry: deferred; cancel: queued or deferred).
pub struct Actions {
    pub retryable: usize,
    pub cancellable: usize,
}

impl Actions {
    pub fn of(message: &QueuedMessage) -> Self {
        let count = |wanted: &[RecipientState]| {
            message
                .recipients
                .iter()
                .filter(|recipient| wanted.contains(&recipient.state))
                .count()
        };
        Self {
            retryable: count(&[RecipientState::Deferred]),
            cancellable: count(&[RecipientState::Queued, RecipientState::Deferred]),
        }
    }

    pub fn any(&self) -> bool {
        self.retryable > 0 || self.cancellable > 0
    }

    /// "1 deferred recipient", "3 deferred recipients".
    pub fn retryable_text(&self) -> String {
        format::count(
            self.retryable as u64,
            ("deferred recipient", "deferred recipients"),
        )
    }

    /// "1 recipient", "3 recipients".
    pub fn cancellable_text(&self) -> String {
        format::count(self.cancellable as u64, RECIPIENTS)
    }
}

/// The sentence shown after an action, from the code and count in the redirect.
pub fn notice(code: &str, count: u64) -> Option<String> {
    let recipients = format::count(count, RECIPIENTS);
    match code {
        "retried" => Some(format!(
            "Trying {recipients} again now. Refresh the page to see the outcome."
        )),
        "cancelled" => Some(format!(
            "Delivery cancelled for {recipients}: they will not get this message."
        )),
        _ => None,
    }
}

fn message_id(id: &str) -> Result<MessageId, PageError> {
    id.parse().map_err(|_| PageError::NotFound)
}

fn back(scope: &Scope, id: MessageId, notice: Option<(&str, u64)>) -> Response {
    let query = notice
        .map(|(code, count)| format!("?notice={code}&count={count}"))
        .unwrap_or_default();
    Redirect::to(&format!("{}/messages/{id}{query}", tenant_path(scope))).into_response()
}

/// A GET of an action's address (a bookmark, a reload, a page without its form) shows the
/// message and does nothing.
pub async fn to_message(
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    Ok(back(&scope, message_id(&id)?, None))
}

pub async fn retry(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = message_id(&id)?;
    let count = state
        .service
        .messages()
        .retry_message(scope.tenant.id, id)
        .await?;
    Ok(back(&scope, id, Some(("retried", count))))
}

pub async fn cancel(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = message_id(&id)?;
    let count = state
        .service
        .messages()
        .cancel_message(scope.tenant.id, id)
        .await?;
    Ok(back(&scope, id, Some(("cancelled", count))))
}
