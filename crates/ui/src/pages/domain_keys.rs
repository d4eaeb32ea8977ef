//! A signing domain's key promotion, its selector and its deletion (SPEC S11.1, issue 16's
//! "destructive actions ask first"): each posts, then redirects to the domain's page with a
//! notice, or shows the page again with the reason.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::KeyId;
use sealpost_service::DnsGate;
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::pages::domains::{done, refused};
use crate::pages::tenant_path;
use crate::session::Scope;

#[derive(Deserialize)]
pub struct PromoteForm {
    /// "true" to promote although DNS does not carry the key.
    #[serde(default)]
    force: String,
}

#[derive(Deserialize)]
pub struct SelectorForm {
    selector: String,
}

fn ids(
    id: &str,
    key: Option<&str>,
) -> Result<(sealpost_domain::SigningDomainId, Option<KeyId>), PageError> {
    let id = id.parse().map_err(|_| PageError::NotFound)?;
    let key = key
        .map(|key| key.parse::<KeyId>().map_err(|_| PageError::NotFound))
        .transpose()?;
    Ok((id, key))
}

pub async fn promote(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id, key)): Path<(String, String, String)>,
    Form(form): Form<PromoteForm>,
) -> Result<Response, PageError> {
    let (id, key) = ids(&id, Some(&key))?;
    let gate = if form.force == "true" {
        DnsGate::Force
    } else {
        DnsGate::RequireRecord
    };
    let key = key.ok_or(PageError::NotFound)?;
    match state
        .service
        .signing_domains()
        .promote_key(scope.tenant.id, id, key, gate)
        .await
    {
        Ok(_) => Ok(done(&scope, id, "promoted")),
        Err(error) => refused(&state, &scope, id, error).await,
    }
}

pub async fn change_selector(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<SelectorForm>,
) -> Result<Response, PageError> {
    let (id, _) = ids(&id, None)?;
    match state
        .service
        .signing_domains()
        .change_selector(scope.tenant.id, id, &form.selector)
        .await
    {
        Ok(_) => Ok(done(&scope, id, "selector")),
        Err(error) => refused(&state, &scope, id, error).await,
    }
}

pub async fn delete(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (id, _) = ids(&id, None)?;
    match state
        .service
        .signing_domains()
        .delete_signing_domain(scope.tenant.id, id)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("{}/domains", tenant_path(&scope))).into_response()),
        Err(error) => refused(&state, &scope, id, error).await,
    }
}
