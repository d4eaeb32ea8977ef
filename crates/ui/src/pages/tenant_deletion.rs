//! The operator's "Delete" of a tenant on the tenant list (SPEC S11.5). The form asks for the
//! tenant's name typed out, and the server checks it again, so neither a slip of the mouse nor
//! a forged form without the name deletes anything. A GET of the delete address only leads
//! back to the tenant list.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::session::Scope;

#[derive(Deserialize)]
pub struct DeleteForm {
    /// The tenant's name as the operator typed it.
    #[serde(default)]
    confirm: String,
}

/// The sentence on the tenant list after a deletion or a refused one.
pub fn notice(code: &str, tenant: &str) -> Option<String> {
    match code {
        "deleted" => Some(format!(
            "Tenant {tenant} was deleted with all its keys, mail, contacts and accounts."
        )),
        "not_deleted" => Some(format!(
            "Tenant {tenant} was not deleted: type its name exactly to confirm."
        )),
        _ => None,
    }
}

fn back(code: &str, tenant: &str) -> Response {
    Redirect::to(&format!("/?notice={code}&tenant={tenant}")).into_response()
}

/// A GET of the delete address shows the tenant list and deletes nothing.
pub async fn to_tenants(scope: Scope) -> Result<Response, PageError> {
    match scope.is_operator() {
        true => Ok(Redirect::to("/").into_response()),
        false => Err(PageError::NotFound),
    }
}

/// Deletes the tenant when an operator typed its name; only an operator may, as through the
/// API and the CLI.
pub async fn delete(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<DeleteForm>,
) -> Result<Response, PageError> {
    if !scope.is_operator() {
        return Err(PageError::NotFound);
    }
    let name = scope.tenant.name.as_str();
    if form.confirm.trim() != name {
        return Ok(back("not_deleted", name));
    }
    state
        .service
        .accounts()
        .delete_tenant(&scope.tenant)
        .await?;
    Ok(back("deleted", name))
}
