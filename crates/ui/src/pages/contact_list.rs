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
    let mut contacts = Vec::with_capacity(page.items.len());
    for contact in page.items {
        let problem = state
            .service
            .mailings()
            .sender_problem(scope.tenant.id, &contact.email)
            .await?;
        contacts.push(ContactRow {
            href: format!("{base}/contacts/{}", contact.id),
            name: contact.name,
            email: contact.email,
            can_send: problem.is_none(),
        });
    }
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
        error,
    };
    render(status, &list)
}
