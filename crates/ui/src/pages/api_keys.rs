//! The tenant's API keys: the keys the application uses for the HTTP API and SMTP submission.
//! A new key's secret is shown once, on the page that answers its creation (never in an
//! address, and never again: only its SHA-256 is stored); revoking asks first, and the key
//! stops working at once.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_service::ServiceError;
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::format;
use crate::layout::Layout;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

struct KeyRow {
    id: String,
    label: String,
    created: String,
}

/// A key just made: its label and its secret, shown this once.
struct NewKey {
    label: String,
    token: String,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct KeysPage {
    layout: Layout,
    action: String,
    keys: Vec<KeyRow>,
    created: Option<NewKey>,
    notice: Option<&'static str>,
    error: Option<String>,
    label: String,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    label: String,
}

async fn keys_page(
    state: &UiState,
    scope: &Scope,
    status: StatusCode,
    created: Option<NewKey>,
    notice: Option<&'static str>,
    error: Option<(String, String)>,
) -> Result<Response, PageError> {
    let keys = state
        .service
        .accounts()
        .list_api_keys(scope.tenant.id)
        .await?
        .into_iter()
        .map(|key| KeyRow {
            id: key.id.to_string(),
            label: if key.label.is_empty() {
                "(no label)".to_owned()
            } else {
                key.label
            },
            created: format::time(key.created_at),
        })
        .collect();
    let (error, label) = error.unzip();
    let page = KeysPage {
        layout: Layout::tenant(scope, "/api-keys", "API keys"),
        action: format!("{}/api-keys", tenant_path(scope)),
        keys,
        created,
        notice,
        error,
        label: label.unwrap_or_default(),
    };
    let mut response = render(status, &page)?;
    // A page with a secret on it must not be kept by the browser or anything in between.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = (query.notice == "revoked").then_some("API key revoked: it no longer works.");
    keys_page(&state, &scope, StatusCode::OK, None, notice, None).await
}

pub async fn create(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<NewKeyForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .accounts()
        .create_api_key(scope.tenant.id, &form.label)
        .await
    {
        Ok(made) => {
            let created = NewKey {
                label: made.info.label,
                token: made.token,
            };
            keys_page(&state, &scope, StatusCode::OK, Some(created), None, None).await
        }
        Err(error @ ServiceError::Invalid { .. }) => {
            let (status, message) = service_status(&error);
            let error = Some((message, form.label));
            keys_page(&state, &scope, status, None, None, error).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn revoke(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    match state
        .service
        .accounts()
        .revoke_api_key(scope.tenant.id, &id)
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("{}/api-keys?notice=revoked", tenant_path(&scope)))
                .into_response(),
        ),
        Err(ServiceError::NotFound(_)) => Err(PageError::NotFound),
        Err(other) => Err(other.into()),
    }
}

/// A GET of the revoke address (a bookmark, a reload) shows the keys and revokes nothing.
pub async fn to_keys(scope: Scope) -> Response {
    Redirect::to(&format!("{}/api-keys", tenant_path(&scope))).into_response()
}
