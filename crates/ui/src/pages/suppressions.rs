//! The suppression list (SPEC S10.3): the addresses the tenant's mail no longer goes to, with
//! reason, time and the message that caused each; the form that adds one, removal behind a
//! confirmation, import of a pasted CSV (refused whole, naming each bad line) and export.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{Suppression, SuppressionReason};
use sealpost_service::ServiceError;
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::format;
use crate::layout::Layout;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// One entry as its row shows it.
struct EntryRow {
    address: String,
    reason: &'static str,
    /// What caused it, as the sentence of the removal confirmation continues it.
    reason_text: &'static str,
    /// Whether the cause was the recipient's or its server's (not an entry added by hand).
    permanent: bool,
    since: String,
    message_href: Option<String>,
    detail: String,
}

impl EntryRow {
    fn new(base: &str, entry: &Suppression) -> Self {
        Self {
            address: entry.address.as_str().to_owned(),
            reason: entry.reason.as_str(),
            reason_text: match entry.reason {
                SuppressionReason::HardBounce => "bounced for good",
                SuppressionReason::Complaint => "reported your mail as spam",
                SuppressionReason::Unsubscribe => "asked for no more mail",
                SuppressionReason::Manual => "was added by hand",
            },
            permanent: entry.reason != SuppressionReason::Manual,
            since: format::time(entry.created_at),
            message_href: entry.message_id.map(|id| format!("{base}/messages/{id}")),
            detail: entry.detail.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "suppressions.html")]
struct ListPage {
    layout: Layout,
    base: String,
    entries: Vec<EntryRow>,
    notice: Option<String>,
    error: Option<String>,
    new_address: String,
    new_detail: String,
    address_error: Option<String>,
    import_csv: String,
    import_error: Option<String>,
}

/// What the page shows besides the list: a notice, or a form's refused values with the reason.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    new_address: String,
    new_detail: String,
    address_error: Option<String>,
    import_csv: String,
    import_error: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    count: u64,
}

#[derive(Deserialize)]
pub struct AddForm {
    address: String,
    #[serde(default)]
    detail: String,
}

#[derive(Deserialize)]
pub struct RemoveForm {
    address: String,
}

#[derive(Deserialize)]
pub struct ImportForm {
    csv: String,
}

/// The sentence after a successful action, from the code in the redirect; nothing of the query
/// but a number is shown, so a link cannot put words of its own on the page.
fn notice(query: &ListQuery) -> Option<String> {
    match query.notice.as_str() {
        "added" => Some("The address is suppressed: mail to it is no longer sent.".to_owned()),
        "removed" => Some("The address was removed: mail to it is sent again.".to_owned()),
        "imported" => Some(format!(
            "The CSV was imported: {} {} suppressed.",
            format::count(query.count, ("new address", "new addresses")),
            if query.count == 1 { "is" } else { "are" }
        )),
        _ => None,
    }
}

async fn list_page(
    state: &UiState,
    scope: &Scope,
    status: StatusCode,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let base = tenant_path(scope);
    let entries = state
        .service
        .feedback()
        .list_suppressions(scope.tenant.id)
        .await?;
    let page = ListPage {
        layout: Layout::tenant(scope, "/suppressions", "Suppression list"),
        entries: entries
            .iter()
            .map(|entry| EntryRow::new(&base, entry))
            .collect(),
        base,
        notice: outcome.notice,
        error: outcome.error,
        new_address: outcome.new_address,
        new_detail: outcome.new_detail,
        address_error: outcome.address_error,
        import_csv: outcome.import_csv,
        import_error: outcome.import_error,
    };
    render(status, &page)
}

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let outcome = Outcome {
        notice: notice(&query),
        ..Outcome::default()
    };
    list_page(&state, &scope, StatusCode::OK, outcome).await
}

/// After a successful action, back to the list (post, redirect, get), so reloading the page
/// does not repeat the action.
fn done(scope: &Scope, code: &str, count: u64) -> Response {
    Redirect::to(&format!(
        "{}/suppressions?notice={code}&count={count}",
        tenant_path(scope)
    ))
    .into_response()
}

pub async fn add(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .feedback()
        .add_suppression(scope.tenant.id, &form.address, "manual", &form.detail)
        .await
    {
        Ok(_) => Ok(done(&scope, "added", 1)),
        Err(ServiceError::Invalid { message, .. }) => {
            let outcome = Outcome {
                new_address: form.address,
                new_detail: form.detail,
                address_error: Some(message),
                ..Outcome::default()
            };
            list_page(&state, &scope, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn remove(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .feedback()
        .remove_suppression(scope.tenant.id, &form.address)
        .await
    {
        Ok(()) => Ok(done(&scope, "removed", 1)),
        Err(ServiceError::Invalid { .. } | ServiceError::NotFound(_)) => {
            let outcome = Outcome {
                error: Some("That address is not on the list.".to_owned()),
                ..Outcome::default()
            };
            list_page(&state, &scope, StatusCode::NOT_FOUND, outcome).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn import(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<ImportForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .feedback()
        .import_suppressions(scope.tenant.id, &form.csv)
        .await
    {
        Ok(summary) => Ok(done(&scope, "imported", summary.added)),
        Err(ServiceError::Invalid { message, .. }) => {
            let outcome = Outcome {
                import_csv: form.csv,
                import_error: Some(message),
                ..Outcome::default()
            };
            list_page(&state, &scope, StatusCode::UNPROCESSABLE_ENTITY, outcome).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The list as a CSV download, which the import form reads back.
pub async fn export(State(state): State<UiState>, scope: Scope) -> Result<Response, PageError> {
    let text = state
        .service
        .feedback()
        .export_suppressions(scope.tenant.id)
        .await?;
    let file = format!(
        "attachment; filename=\"suppressions-{}.csv\"",
        scope.tenant.name.as_str()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::{ListQuery, notice};

    #[track_caller]
    fn check(count: u64, expect: &str) {
        let query = ListQuery {
            notice: "imported".to_owned(),
            count,
        };
        assert_eq!(notice(&query).as_deref(), Some(expect));
    }

    #[test]
    fn the_import_notice_counts_in_words() {
        check(1, "The CSV was imported: 1 new address is suppressed.");
        check(3, "The CSV was imported: 3 new addresses are suppressed.");
    }
}
