//! The tenant's contacts as a list of their own: a page at a time by name, searched in the
//! database by name or address, with how many there are in all. Contacts are added, and
//! chosen for mailings, on the Mailings page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sealpost_service::ServiceError;
use sealpost_service::lists::{self, ListOrder, Page};
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
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
}

struct ContactRow {
    name: String,
    email: String,
}

#[derive(Template)]
#[template(path = "contact_list.html")]
struct ListPage {
    layout: Layout,
    action: String,
    mailings_href: String,
    contacts: Vec<ContactRow>,
    q: String,
    pager: Pager,
    error: Option<String>,
}

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let base = tenant_path(&scope);
    let action = format!("{base}/contacts");
    let read = lists::page_request(None, Some(&query.cursor), LIST_LIMIT, ListOrder::ByName)
        .and_then(|request| Ok((request, lists::search(Some(&query.q))?)));
    let (page, status, error) = match read {
        Ok((request, search)) => {
            let page = state
                .service
                .mailings()
                .contact_page(scope.tenant.id, search.as_deref(), &request)
                .await?;
            (page, StatusCode::OK, None)
        }
        Err(invalid @ ServiceError::Invalid { .. }) => {
            let (status, message) = service_status(&invalid);
            let empty = Page {
                items: Vec::new(),
                total: 0,
                next: None,
            };
            (empty, status, Some(message))
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
    let list = ListPage {
        layout: Layout::tenant(&scope, "/mailings", "Contacts"),
        mailings_href: format!("{base}/mailings"),
        contacts: page
            .items
            .into_iter()
            .map(|contact| ContactRow {
                name: contact.name,
                email: contact.email,
            })
            .collect(),
        q: query.q,
        action,
        pager,
        error,
    };
    render(status, &list)
}
