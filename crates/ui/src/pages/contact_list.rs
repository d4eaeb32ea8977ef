//! The tenant's contacts as a list of their own: a page at a time by name, searched in the
//! database by name or address, with how many there are in all, and what each can be in a
//! mailing (every contact can receive; a sender's address must be in an active signing
//! domain). Each links to its own page (`contacts`), where it is edited or deleted.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sealpost_service::ServiceError;
use sealpost_service::lists::{self, ListOrder, Page};
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::form_errors::{FieldErrors, Labels};
use crate::layout::Layout;
use crate::pages::pager::Pager;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// How many contacts a page of the list shows.
const LIST_LIMIT: u32 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    notice: String,
}

struct ContactRow {
    href: String,
    name: String,
    email: String,
    can_send: bool,
}

#[derive(Template)]
#[template(path = "contact_list.html")]
struct ListPage {
    layout: Layout,
    action: String,
    mailings_href: String,
    new_href: String,
    signing_href: String,
    notice: Option<&'static str>,
    contacts: Vec<ContactRow>,
    q: String,
    pager: Pager,
    /// A refused search beside its field; a stale page link above the list.
    errors: FieldErrors,
}

/// The search field as the service names it, with the form's label.
const SEARCH_LABELS: &Labels = &[("q", "search")];

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let base = tenant_path(&scope);
    let action = format!("{base}/contacts");
    let read = lists::page_request(None, Some(&query.cursor), LIST_LIMIT, ListOrder::ByName)
        .and_then(|request| Ok((request, lists::search(Some(&query.q))?)));
    let (page, status, errors) = match read {
        Ok((request, search)) => {
            let page = state
                .service
                .mailings()
                .contact_page(scope.tenant.id, search.as_deref(), &request)
                .await?;
            (page, StatusCode::OK, FieldErrors::none())
        }
        Err(invalid @ ServiceError::Invalid { .. }) => {
            let (status, errors) = FieldErrors::of(&invalid, SEARCH_LABELS);
            (Page::empty(), status, errors)
        }
        Err(other) => return Err(other.into()),
    };
    let pager = Pager::new(
        &page,
        &action,
        &[("q", query.q.as_str())],
        !query.cursor.trim().is_empty(),
        ("contact", "contacts"),
    );
    let contacts = state
        .service
        .mailings()
        .standings_of(scope.tenant.id, page.items)
        .await?
        .into_iter()
        .map(|standing| ContactRow {
            href: format!("{base}/contacts/{}", standing.contact.id),
            can_send: standing.can_send(),
            name: standing.contact.name,
            email: standing.contact.email,
        })
        .collect();
    let list = ListPage {
        layout: Layout::tenant(&scope, "/contacts", "Contacts"),
        mailings_href: format!("{base}/mailings"),
        new_href: format!("{base}/contacts/new"),
        signing_href: format!("{base}/domains"),
        notice: (query.notice == "deleted").then_some("Contact deleted."),
        contacts,
        q: query.q,
        action,
        pager,
        errors,
    };
    render(status, &list)
}
