//! Messages (SPEC S5.5, S6.2): the tenant's messages a page at a time, filtered and searched in
//! the database, and each message
//! with its per-recipient status, attempts and remote replies, the raw source exactly as it is
//! sent, and the DKIM verification of that source with the cause of any failure.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sealpost_dkim::DkimResult;
use sealpost_domain::{
    DkimVerdict, MessageId, MessageSummary, Recipient, RecipientState, SigningRecord, Timestamp,
};
use sealpost_service::ServiceError;
use sealpost_service::lists::{self, ListOrder, MessageFilter, Page, PageRequest};
use sealpost_views::messages::HeldView;
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::form_errors::{FieldErrors, Labels};
use crate::format;
use crate::layout::Layout;
use crate::pages::message_actions::{self, Actions};
use crate::pages::pager::Pager;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// How many messages a page of the list shows.
const LIST_LIMIT: u32 = 50;
/// The raw source shown on the page is cut here; larger messages are rare and unreadable.
const RAW_SHOWN_BYTES: usize = 256 * 1024;

/// The message's Subject as a person reads it: unfolded, with RFC 2047 encoded words (which
/// Sealpost itself writes for non-ASCII subjects) decoded by mail-parser; empty when absent.
pub fn subject(head: &[u8]) -> String {
    mail_parser::MessageParser::new()
        .parse_headers(head)
        .and_then(|message| message.subject().map(str::to_owned))
        .unwrap_or_default()
}

/// One word for a message's recipients together: failed if any failed, sent if all were sent,
/// otherwise the state of the first one still on its way.
pub fn overall(message: &MessageSummary) -> RecipientState {
    let states: Vec<RecipientState> = message.recipients.iter().map(|r| r.state).collect();
    if let Some(bad) = states
        .iter()
        .find(|state| format::state_class(**state) == "bad")
    {
        return *bad;
    }
    states
        .iter()
        .find(|state| !state.is_final())
        .copied()
        .unwrap_or(RecipientState::Sent)
}

/// A message as a list shows it.
pub struct MessageRow {
    pub href: String,
    pub subject: String,
    pub mail_from: String,
    pub recipients: String,
    pub accepted: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

/// The word and badge class of a message's status. A message the tenant did not sign has no
/// DKIM signature of the tenant's domain, so receivers cannot tie it to the tenant, and one
/// whose signature did not verify when last checked is treated as unsigned or refused: neither
/// is shown as a plain green "sent".
pub fn status(message: &MessageSummary) -> (&'static str, &'static str) {
    let state = overall(message);
    match (&message.signing, message.dkim_verdict, state) {
        (SigningRecord::Unsigned(_), _, RecipientState::Sent) => ("sent unsigned", "warning"),
        (SigningRecord::Signed { .. }, Some(DkimVerdict::Fail), RecipientState::Sent) => {
            ("sent, DKIM failed", "bad")
        }
        _ => (state.as_str(), format::state_class(state)),
    }
}

impl MessageRow {
    pub fn new(base: &str, message: &MessageSummary) -> Self {
        let (status, status_class) = status(message);
        let subject = message.subject.clone();
        Self {
            href: format!("{base}/messages/{}", message.id),
            subject: if subject.is_empty() {
                "(no subject)".into()
            } else {
                subject
            },
            mail_from: message.mail_from.clone(),
            recipients: message
                .recipients
                .iter()
                .map(|recipient| recipient.address.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            accepted: format::time(message.accepted_at),
            status,
            status_class,
        }
    }
}

#[derive(Deserialize)]
pub struct Filter {
    #[serde(default)]
    state: String,
    #[serde(default)]
    q: String,
    /// Only messages accepted at or after this Unix time (the dashboard's last 24 hours).
    #[serde(default)]
    since: String,
    #[serde(default)]
    cursor: String,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct ListPage {
    layout: Layout,
    action: String,
    messages: Vec<MessageRow>,
    q: String,
    since: String,
    since_label: Option<String>,
    /// (state, selected) for the filter.
    states: Vec<(&'static str, bool)>,
    pager: Pager,
    /// A refused filter value beside its field; a stale page link above the list.
    errors: FieldErrors,
}

/// The filter's fields as the service names them, with the form's labels.
const FILTER_LABELS: &Labels = &[("q", "search"), ("state", "status")];

const STATES: [RecipientState; 10] = [
    RecipientState::Queued,
    RecipientState::Sending,
    RecipientState::Deferred,
    RecipientState::Sent,
    RecipientState::Failed,
    RecipientState::Expired,
    RecipientState::Cancelled,
    RecipientState::Suppressed,
    RecipientState::Bounced,
    RecipientState::Complained,
];

/// The filter as the service reads it; a value that does not read is the page's error.
fn message_filter(filter: &Filter) -> Result<(MessageFilter, PageRequest), ServiceError> {
    let since = match filter.since.trim() {
        "" => None,
        text => Some(Timestamp(text.parse().map_err(|_| {
            ServiceError::Invalid {
                field: "since",
                message: "is not a time".to_owned(),
            }
        })?)),
    };
    let request = lists::page_request(None, Some(&filter.cursor), LIST_LIMIT, ListOrder::Newest)?;
    let filter = MessageFilter {
        state: lists::recipient_state(Some(&filter.state))?,
        search: lists::search(Some(&filter.q))?,
        since,
    };
    Ok((filter, request))
}

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(filter): Query<Filter>,
) -> Result<Response, PageError> {
    let base = tenant_path(&scope);
    let action = format!("{base}/messages");
    let (page, status, errors) = match message_filter(&filter) {
        Ok((read, request)) => {
            let page = state
                .service
                .messages()
                .message_page(scope.tenant.id, &read, &request)
                .await?;
            (page, StatusCode::OK, FieldErrors::none())
        }
        Err(error @ ServiceError::Invalid { .. }) => {
            let (status, errors) = FieldErrors::of(&error, FILTER_LABELS);
            (Page::empty(), status, errors)
        }
        Err(other) => return Err(other.into()),
    };
    let pager = Pager::new(
        &page,
        &action,
        &[
            ("state", filter.state.as_str()),
            ("q", filter.q.as_str()),
            ("since", filter.since.as_str()),
        ],
        !filter.cursor.trim().is_empty(),
        ("message", "messages"),
    );
    let list = ListPage {
        layout: Layout::tenant(&scope, "/messages", "Messages"),
        messages: page
            .items
            .iter()
            .map(|message| MessageRow::new(&base, message))
            .collect(),
        states: STATES
            .iter()
            .map(|state| (state.as_str(), filter.state == state.as_str()))
            .collect(),
        since_label: filter
            .since
            .trim()
            .parse()
            .ok()
            .map(|since| format::time(Timestamp(since))),
        since: filter.since,
        q: filter.q,
        action,
        pager,
        errors,
    };
    render(status, &list)
}

struct RecipientView {
    address: String,
    state: &'static str,
    state_class: &'static str,
    attempts: u32,
    next_attempt: String,
    last_reply: String,
}

struct AttemptView {
    recipient: String,
    started: String,
    outcome: String,
    host: String,
    reply: String,
}

struct SignatureView {
    domain: String,
    selector: String,
    algorithm: String,
    result: &'static str,
    result_class: &'static str,
    cause: &'static str,
    sentence: &'static str,
    detail: String,
    tags: Vec<(String, String)>,
    key: Option<String>,
    warnings: Vec<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    layout: Layout,
    row: MessageRow,
    route: &'static str,
    signing: String,
    recipients: Vec<RecipientView>,
    attempts: Vec<AttemptView>,
    dkim_result: &'static str,
    dkim_class: &'static str,
    dkim_summary: String,
    signatures: Vec<SignatureView>,
    raw: String,
    raw_cut: bool,
    action: String,
    actions: Actions,
    notice: Option<String>,
    /// Why the waiting recipients are not sent: the tenant's sending is paused.
    held: Option<String>,
}

/// The notice after an action, from the redirect's query.
#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    notice: String,
    /// Text, so a mangled link shows the page without the notice instead of an error.
    #[serde(default)]
    count: String,
}

fn result_class(result: DkimResult) -> &'static str {
    match result {
        DkimResult::Pass => "ok",
        DkimResult::None | DkimResult::TempError => "wait",
        _ => "bad",
    }
}

/// A recipient's badge class. A recipient has the message, but when its signature does not
/// verify that delivery is no plain success either, so it is not green.
fn recipient_class(state: RecipientState, dkim: DkimResult) -> &'static str {
    match (state, dkim) {
        (RecipientState::Sent, DkimResult::Pass) => "ok",
        (RecipientState::Sent, _) => "warning",
        (other, _) => format::state_class(other),
    }
}

/// What the page says above the recipients of a message its tenant's pause holds.
fn held_notice(held: &HeldView) -> String {
    format!(
        "Held: this tenant's sending is paused since {}: the {}. Its waiting recipients are \
         kept, not sent, and go out when the platform operator resumes it; their expiry moves on \
         by the pause.",
        format::time(Timestamp(held.since)),
        held.reason
    )
}

impl RecipientView {
    /// A recipient's row: its next attempt is the resume when its tenant's pause holds it
    /// (`held`), else the time planned, and none once it is final or being delivered.
    fn of(recipient: &Recipient, dkim: DkimResult, held: bool) -> Self {
        let next_attempt = if held && recipient.state.is_waiting() {
            "when sending resumes".to_owned()
        } else {
            recipient
                .next_attempt_at
                .filter(|_| !recipient.state.is_final())
                .map(format::time)
                .unwrap_or_default()
        };
        Self {
            address: recipient.address.clone(),
            state: recipient.state.as_str(),
            state_class: recipient_class(recipient.state, dkim),
            attempts: recipient.attempts,
            next_attempt,
            last_reply: recipient.last_reply.clone().unwrap_or_default(),
        }
    }
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let id: MessageId = id.parse().map_err(|_| PageError::NotFound)?;
    let service = &state.service;
    let tenant = scope.tenant.id;
    let messages = service.messages();
    let message = messages.message(tenant, id).await?;
    // The body is read once: the attempts are those of the message read, and the
    // verification works on the source already read. They and the tenant's standing, which
    // says whether its waiting recipients are held, are read at once.
    let feedback = service.feedback();
    let (attempts, report, standing) = tokio::try_join!(
        messages.attempts_of(&message),
        messages.check_dkim(&message),
        feedback.standing(tenant)
    )?;
    let held = HeldView::of(&message.recipients, &standing);
    let addresses: HashMap<_, _> = message
        .recipients
        .iter()
        .map(|recipient| (recipient.id, recipient.address.clone()))
        .collect();
    let raw_cut = message.raw.len() > RAW_SHOWN_BYTES;
    let raw = String::from_utf8_lossy(&message.raw[..message.raw.len().min(RAW_SHOWN_BYTES)])
        .into_owned();
    let summary = MessageSummary::of(&message, subject(&message.raw), None);
    let mut row = MessageRow::new(&tenant_path(&scope), &summary);
    // Sent with a signature that does not verify (a key or a record that no longer matches, a
    // body changed on the way) is no success: receivers treat it as unsigned or reject it.
    if row.status == RecipientState::Sent.as_str() && report.result() != DkimResult::Pass {
        row.status = "sent, DKIM failed";
        row.status_class = "bad";
    }
    let mut actions = Actions::of(&message);
    if held.is_some() {
        // A retry now would be held like the rest: the pause decides when they go.
        actions.retryable = 0;
    }
    let page = MessagePage {
        layout: Layout::tenant(&scope, "/messages", "Message"),
        action: row.href.clone(),
        actions,
        notice: message_actions::notice(&query.notice, query.count.parse().unwrap_or(0)),
        held: held.as_ref().map(held_notice),
        row,
        route: match message.route {
            sealpost_domain::Route::Native => "native (retried for 24 hours)",
            sealpost_domain::Route::Relay => "own mail server (not retried)",
        },
        signing: match &message.signing {
            SigningRecord::Signed { domain, selector } => {
                format!("signed with d={domain}, s={selector}")
            }
            SigningRecord::Unsigned(reason) => format!("unsigned ({}): {reason}", reason.code()),
        },
        recipients: message
            .recipients
            .iter()
            .map(|recipient| RecipientView::of(recipient, report.result(), held.is_some()))
            .collect(),
        attempts: attempts
            .iter()
            .map(|attempt| AttemptView {
                recipient: addresses
                    .get(&attempt.recipient_id)
                    .cloned()
                    .unwrap_or_default(),
                started: format::time(attempt.started_at),
                outcome: attempt.outcome.as_str().to_owned(),
                host: attempt.host.clone().unwrap_or_default(),
                reply: attempt.reply.clone(),
            })
            .collect(),
        dkim_result: report.result().as_str(),
        dkim_class: result_class(report.result()),
        dkim_summary: report.summary(),
        signatures: report
            .signatures
            .iter()
            .map(|signature| SignatureView {
                domain: signature.domain.clone().unwrap_or_default(),
                selector: signature.selector.clone().unwrap_or_default(),
                algorithm: signature.algorithm.clone().unwrap_or_default(),
                result: signature.result.as_str(),
                result_class: result_class(signature.result),
                cause: signature.cause.code(),
                sentence: signature.cause.sentence(),
                // The detail adds to the cause's sentence only when it says something else.
                detail: if signature.detail == signature.cause.sentence() {
                    String::new()
                } else {
                    signature.detail.to_string()
                },
                tags: signature
                    .tags
                    .iter()
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect(),
                key: signature.key.as_ref().map(|key| {
                    format!(
                        "{}: {} ({}{}{})",
                        key.name,
                        key.record,
                        key.key_type,
                        key.bits
                            .map(|bits| format!(", {bits} bits"))
                            .unwrap_or_default(),
                        if key.testing {
                            ", testing mode t=y"
                        } else {
                            ""
                        }
                    )
                }),
                warnings: signature
                    .warnings
                    .iter()
                    .map(|warning| format!("{}: {}", warning.code, warning.message))
                    .collect(),
            })
            .collect(),
        raw,
        raw_cut,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::subject;

    #[test]
    fn subjects_are_unfolded_and_decoded() {
        assert_eq!(
            subject(b"From: a@b.example\r\nSubject: =?utf-8?b?R3LDvMOfZQ==?=\r\n\r\nBody"),
            "Grüße"
        );
        assert_eq!(
            subject(b"Subject: Work\r\n order 17\r\nTo: c@d.example\r\n\r\n"),
            "Work order 17"
        );
        assert_eq!(subject(b"To: c@d.example\r\n\r\nNo subject"), "");
    }
}
