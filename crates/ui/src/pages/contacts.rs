//! One contact (SPEC S6.1): the form for a new one, its own page to edit it, and deletion
//! behind a confirmation; a contact that a mailing uses is kept, with the mailing named. Every
//! contact can receive; a contact can send only from an active signing domain, and its page
//! says which it can, without telling a recipient at a mailbox provider to add that provider's
//! domain. The list of contacts is `contact_list`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::ContactId;
use sealpost_service::{ContactForm, ServiceError};
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::form_errors::{FieldErrors, Labels};
use crate::layout::Layout;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

const LABELS: &Labels = &[("name", "name"), ("email", "e-mail address")];

#[derive(Template)]
#[template(path = "contact_new.html")]
struct NewPage {
    layout: Layout,
    action: String,
    list_href: String,
    signing_href: String,
    name: String,
    email: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    layout: Layout,
    action: String,
    list_href: String,
    shown_name: String,
    name: String,
    email: String,
    can_send: bool,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct ContactFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

impl ContactFields {
    fn form(&self) -> ContactForm {
        ContactForm {
            name: self.name.clone(),
            email: self.email.clone(),
        }
    }
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

fn contact_id(id: &str) -> Result<ContactId, PageError> {
    id.parse().map_err(|_| PageError::NotFound)
}

async fn new_page(
    scope: &Scope,
    status: StatusCode,
    typed: Option<&ContactFields>,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let base = tenant_path(scope);
    let page = NewPage {
        layout: Layout::tenant(scope, "/contacts", "New contact"),
        action: format!("{base}/contacts"),
        list_href: format!("{base}/contacts"),
        signing_href: format!("{base}/domains"),
        name: typed.map(|typed| typed.name.clone()).unwrap_or_default(),
        email: typed.map(|typed| typed.email.clone()).unwrap_or_default(),
        errors,
    };
    render(status, &page)
}

pub async fn new_form(scope: Scope) -> Result<Response, PageError> {
    new_page(&scope, StatusCode::OK, None, FieldErrors::none()).await
}

pub async fn add(
    State(state): State<UiState>,
    scope: Scope,
    Form(fields): Form<ContactFields>,
) -> Result<Response, PageError> {
    let added = state
        .service
        .mailings()
        .add_contact(scope.tenant.id, fields.form())
        .await;
    match added {
        Ok(contact) => Ok(Redirect::to(&format!(
            "{}/contacts/{}?notice=added",
            tenant_path(&scope),
            contact.id
        ))
        .into_response()),
        Err(error @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let (status, errors) = FieldErrors::of(&error, LABELS);
            new_page(&scope, status, Some(&fields), errors).await
        }
        Err(other) => Err(other.into()),
    }
}

/// What a contact's page shows besides the contact.
struct Shown<'a> {
    status: StatusCode,
    typed: Option<&'a ContactFields>,
    notice: Option<&'static str>,
    errors: FieldErrors,
}

async fn contact_page(
    state: &UiState,
    scope: &Scope,
    id: ContactId,
    shown: Shown<'_>,
) -> Result<Response, PageError> {
    let mailings = state.service.mailings();
    let contact = mailings.contact(scope.tenant.id, id).await?;
    let can_send = mailings
        .sender_problem(scope.tenant.id, &contact.email)
        .await?
        .is_none();
    let base = tenant_path(scope);
    let typed = shown.typed;
    let page = ContactPage {
        layout: Layout::tenant(scope, "/contacts", format!("Contact {}", contact.name)),
        action: format!("{base}/contacts/{id}"),
        list_href: format!("{base}/contacts"),
        name: typed.map_or_else(|| contact.name.clone(), |typed| typed.name.clone()),
        email: typed.map_or_else(|| contact.email.clone(), |typed| typed.email.clone()),
        shown_name: contact.name,
        can_send,
        notice: shown.notice,
        errors: shown.errors,
    };
    render(shown.status, &page)
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match query.notice.as_str() {
        "added" => Some("Contact added."),
        "saved" => Some("Contact saved."),
        _ => None,
    };
    let shown = Shown {
        status: StatusCode::OK,
        typed: None,
        notice,
        errors: FieldErrors::none(),
    };
    contact_page(&state, &scope, contact_id(&id)?, shown).await
}

pub async fn save(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Form(fields): Form<ContactFields>,
) -> Result<Response, PageError> {
    let id = contact_id(&id)?;
    let saved = state
        .service
        .mailings()
        .update_contact(scope.tenant.id, id, fields.form())
        .await;
    match saved {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}/contacts/{id}?notice=saved",
            tenant_path(&scope)
        ))
        .into_response()),
        Err(error @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let (status, errors) = FieldErrors::of(&error, LABELS);
            let shown = Shown {
                status,
                typed: Some(&fields),
                notice: None,
                errors,
            };
            contact_page(&state, &scope, id, shown).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn delete(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = contact_id(&id)?;
    match state
        .service
        .mailings()
        .delete_contact(scope.tenant.id, id)
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("{}/contacts?notice=deleted", tenant_path(&scope)))
                .into_response(),
        ),
        Err(error @ ServiceError::Conflict(_)) => {
            let (status, errors) = FieldErrors::of(&error, LABELS);
            let shown = Shown {
                status,
                typed: None,
                notice: None,
                errors,
            };
            contact_page(&state, &scope, id, shown).await
        }
        Err(other) => Err(other.into()),
    }
}

/// A GET of the delete address only leads back to the contact, so that a link never deletes.
pub async fn to_contact(scope: Scope, Path((_, id)): Path<(String, String)>) -> Response {
    Redirect::to(&format!("{}/contacts/{id}", tenant_path(&scope))).into_response()
}
