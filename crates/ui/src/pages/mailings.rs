//! Mailings (SPEC S6): the tenant's contacts, a mailing composed from a sender contact,
//! recipient contacts, a subject and a body, "Send message", and the status of each recipient
//! with its next attempt or the reason it failed and a link to its own message (each recipient
//! is sent one of its own). A sender whose domain is not an active signing domain is refused
//! with the reason, by the service.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{ContactId, MailingId};
use sealpost_service::lists::{self, ListOrder, MailingFilter, Page, PageRequest};
use sealpost_service::{MailingForm, MailingStatus, ServiceError};
use sealpost_views::mailings::{MailingProgress, delivered_count, progress};
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::form_errors::{FieldErrors, Labels};
use crate::format;
use crate::layout::Layout;
use crate::pages::pager::Pager;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// How many mailings the list shows.
const LIST_LIMIT: u32 = 50;

/// A mailing as a list shows it.
pub struct MailingRow {
    pub href: String,
    pub subject: String,
    pub sender: String,
    pub recipients: usize,
    pub created: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

impl MailingRow {
    pub fn new(base: &str, status: &MailingStatus) -> Self {
        let (word, class) = status_of(status);
        Self {
            href: format!("{base}/mailings/{}", status.mailing.id),
            subject: status.mailing.subject.clone(),
            sender: status.mailing.sender.email.clone(),
            recipients: status.mailing.recipients.len(),
            created: format::time(status.mailing.created_at),
            status: word,
            status_class: class,
        }
    }
}

/// A contact as the compose form offers it, with why it cannot send, if it cannot.
struct ContactOption {
    id: String,
    label: String,
    sender_problem: Option<String>,
    chosen_sender: bool,
    chosen_recipient: bool,
}

#[derive(Template)]
#[template(path = "mailings.html")]
struct ListPage {
    layout: Layout,
    base: String,
    mailings: Vec<MailingRow>,
    pager: Pager,
    q: String,
    /// (code, words, selected) for the status filter.
    statuses: Vec<(&'static str, &'static str, bool)>,
    contacts: Vec<ContactOption>,
    subject: String,
    body: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The compose form's errors, each next to its field.
    compose_errors: FieldErrors,
    /// A refused filter value beside its field.
    filter_errors: FieldErrors,
}

struct RecipientStatus {
    name: String,
    address: String,
    state: &'static str,
    state_class: &'static str,
    next_attempt: String,
    reason: String,
    message_href: Option<String>,
}

#[derive(Template)]
#[template(path = "mailing.html")]
struct MailingPage {
    layout: Layout,
    action: String,
    subject: String,
    sender: String,
    body: String,
    created: String,
    sent: Option<String>,
    status: &'static str,
    status_class: &'static str,
    delivered: usize,
    recipients: Vec<RecipientStatus>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// The mailing list's filter, search and page, with the notice after an action.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
}

/// The mailings a list shows, read by the service's rules; an unreadable filter is refused.
fn mailing_filter(query: &ListQuery) -> Result<(MailingFilter, PageRequest), ServiceError> {
    let request = lists::page_request(None, Some(&query.cursor), LIST_LIMIT, ListOrder::Newest)?;
    let filter = MailingFilter {
        progress: lists::mailing_progress(Some(&query.status))?,
        search: lists::search(Some(&query.q))?,
    };
    Ok((filter, request))
}

/// The compose form's fields as the service names them, with the form's labels.
/// The list filter's fields as the service names them, with the form's labels.
const FILTER_LABELS: &Labels = &[("q", "search"), ("status", "status")];

const COMPOSE_LABELS: &Labels = &[
    ("sender", "sender contact"),
    ("recipients", "recipient contacts"),
    ("subject", "subject"),
    ("body", "body"),
];

/// The compose form. Checkbox lists arrive as repeated fields, which `axum::Form` cannot
/// read into a `Vec`, so the body is read as pairs.
struct ComposeFields {
    sender: String,
    recipients: Vec<String>,
    subject: String,
    body: String,
}

impl ComposeFields {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut fields = Self {
            sender: String::new(),
            recipients: Vec::new(),
            subject: String::new(),
            body: String::new(),
        };
        for (name, value) in pairs {
            match name.as_str() {
                "sender" => fields.sender = value,
                "recipient" => fields.recipients.push(value),
                "subject" => fields.subject = value,
                "body" => fields.body = value,
                _ => {}
            }
        }
        fields
    }
}

fn status_of(status: &MailingStatus) -> (&'static str, &'static str) {
    let progress = progress(status);
    let class = match progress {
        MailingProgress::Draft | MailingProgress::InProgress => "wait",
        MailingProgress::Delivered => "ok",
        MailingProgress::PartlyDelivered => "warning",
        MailingProgress::Failed => "bad",
    };
    (progress.words(), class)
}

fn notice(code: &str) -> Option<&'static str> {
    match code {
        "created" => Some("Mailing created. Check it, then press Send message."),
        "sent" => Some(
            "A message to each recipient was accepted for delivery. Refresh to see each \
             recipient's status.",
        ),
        "deleted" => Some("Draft mailing deleted. Its contacts stay."),
        _ => None,
    }
}

async fn list_page(
    state: &UiState,
    scope: &Scope,
    status: StatusCode,
    typed: Option<&ComposeFields>,
    query: &ListQuery,
    compose_errors: FieldErrors,
) -> Result<Response, PageError> {
    let service = &state.service;
    let tenant = scope.tenant.id;
    let base = tenant_path(scope);
    let (page, status, filter_errors) = match mailing_filter(query) {
        Ok((filter, request)) => {
            let page = service
                .mailings()
                .mailing_page(tenant, &filter, &request)
                .await?;
            (page, status, FieldErrors::none())
        }
        Err(invalid @ ServiceError::Invalid { .. }) => {
            let (status, errors) = FieldErrors::of(&invalid, FILTER_LABELS);
            (Page::empty(), status, errors)
        }
        Err(other) => return Err(other.into()),
    };
    let pager = Pager::new(
        &page,
        &format!("{base}/mailings"),
        &[("status", query.status.as_str()), ("q", query.q.as_str())],
        !query.cursor.trim().is_empty(),
        ("mailing", "mailings"),
    );
    let mailings = page
        .items
        .iter()
        .map(|status| MailingRow::new(&base, status))
        .collect();
    let contacts = service
        .mailings()
        .contact_standings(tenant)
        .await?
        .into_iter()
        .map(|standing| {
            let id = standing.contact.id.to_string();
            ContactOption {
                label: format!("{} <{}>", standing.contact.name, standing.contact.email),
                chosen_sender: typed.is_some_and(|typed| typed.sender == id),
                chosen_recipient: typed.is_some_and(|typed| typed.recipients.contains(&id)),
                sender_problem: standing.sender_problem,
                id,
            }
        })
        .collect();
    let page = ListPage {
        layout: Layout::tenant(scope, "/mailings", "Mailings"),
        base,
        mailings,
        pager,
        q: query.q.clone(),
        statuses: MailingProgress::ALL
            .iter()
            .map(|progress| {
                (
                    progress.code(),
                    progress.words(),
                    query.status == progress.code(),
                )
            })
            .collect(),
        contacts,
        subject: typed.map(|typed| typed.subject.clone()).unwrap_or_default(),
        body: typed.map(|typed| typed.body.clone()).unwrap_or_default(),
        notice: notice(&query.notice),
        error: filter_errors.general().map(str::to_owned),
        compose_errors,
        filter_errors,
    };
    render(status, &page)
}

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    list_page(
        &state,
        &scope,
        StatusCode::OK,
        None,
        &query,
        FieldErrors::none(),
    )
    .await
}

pub async fn create(
    State(state): State<UiState>,
    scope: Scope,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| PageError::Status(StatusCode::BAD_REQUEST, "The form could not be read."))?;
    let fields = ComposeFields::from_pairs(pairs);
    let form = MailingForm {
        sender: fields.sender.parse::<ContactId>().ok(),
        recipients: fields
            .recipients
            .iter()
            .filter_map(|id| id.parse::<ContactId>().ok())
            .collect(),
        subject: fields.subject.clone(),
        body: fields.body.clone(),
    };
    match state
        .service
        .mailings()
        .create_mailing(scope.tenant.id, form)
        .await
    {
        Ok(mailing) => Ok(Redirect::to(&format!(
            "{}/mailings/{}?notice=created",
            tenant_path(&scope),
            mailing.id
        ))
        .into_response()),
        Err(error @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let (status, errors) = FieldErrors::of(&error, COMPOSE_LABELS);
            list_page(
                &state,
                &scope,
                status,
                Some(&fields),
                &ListQuery::default(),
                errors,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

fn mailing_id(id: &str) -> Result<MailingId, PageError> {
    id.parse().map_err(|_| PageError::NotFound)
}

async fn mailing_page(
    state: &UiState,
    scope: &Scope,
    id: MailingId,
    status: StatusCode,
    notice_code: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let found = state
        .service
        .mailings()
        .mailing_status(scope.tenant.id, id)
        .await?;
    let base = tenant_path(scope);
    let mailing = &found.mailing;
    let (progress, progress_class) = status_of(&found);
    let recipients = mailing
        .recipients
        .iter()
        .map(|contact| {
            let message_href = found
                .message_to(contact)
                .map(|message| format!("{base}/messages/{}", message.id));
            match found.delivery_to(contact) {
                Some(recipient) => RecipientStatus {
                    name: contact.name.clone(),
                    address: contact.email.clone(),
                    state: recipient.state.as_str(),
                    state_class: format::state_class(recipient.state),
                    next_attempt: recipient
                        .next_attempt_at
                        .filter(|_| !recipient.state.is_final())
                        .map(format::time)
                        .unwrap_or_default(),
                    reason: recipient.last_reply.clone().unwrap_or_default(),
                    message_href,
                },
                None => RecipientStatus {
                    name: contact.name.clone(),
                    address: contact.email.clone(),
                    state: "not sent",
                    state_class: "wait",
                    next_attempt: String::new(),
                    reason: String::new(),
                    message_href,
                },
            }
        })
        .collect();
    let page = MailingPage {
        layout: Layout::tenant(scope, "/mailings", format!("Mailing: {}", mailing.subject)),
        action: format!("{base}/mailings/{id}"),
        subject: mailing.subject.clone(),
        sender: format!("{} <{}>", mailing.sender.name, mailing.sender.email),
        body: mailing.body.clone(),
        created: format::time(mailing.created_at),
        sent: mailing.sent_at.map(format::time),
        status: progress,
        status_class: progress_class,
        delivered: delivered_count(&found),
        recipients,
        notice: notice(notice_code),
        error,
    };
    render(status, &page)
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    mailing_page(
        &state,
        &scope,
        mailing_id(&id)?,
        StatusCode::OK,
        &query.notice,
        None,
    )
    .await
}

pub async fn send(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = mailing_id(&id)?;
    match state
        .service
        .mailings()
        .send_mailing(scope.tenant.id, id)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}/mailings/{id}?notice=sent",
            tenant_path(&scope)
        ))
        .into_response()),
        Err(
            error @ (ServiceError::Invalid { .. }
            | ServiceError::Conflict(_)
            | ServiceError::Unproven(_)),
        ) => {
            let (status, message) = service_status(&error);
            mailing_page(&state, &scope, id, status, "", Some(message)).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Deletes a draft mailing after its confirmation; a sent mailing stays, with the reason.
pub async fn delete(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = mailing_id(&id)?;
    match state
        .service
        .mailings()
        .delete_draft_mailing(scope.tenant.id, id)
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("{}/mailings?notice=deleted", tenant_path(&scope)))
                .into_response(),
        ),
        Err(error @ ServiceError::Conflict(_)) => {
            let (status, message) = service_status(&error);
            mailing_page(&state, &scope, id, status, "", Some(message)).await
        }
        Err(other) => Err(other.into()),
    }
}

/// A GET of the delete address (a bookmark, a reload) shows the mailing and deletes nothing.
pub async fn to_mailing(
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = mailing_id(&id)?;
    Ok(Redirect::to(&format!("{}/mailings/{id}", tenant_path(&scope))).into_response())
}
