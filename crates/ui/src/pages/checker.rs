//! Checker reports (SPEC S7, S8.3): what the built-in mail tester found in the messages that
//! arrived at the tenant's test addresses, with the score and each problem's fix; and the
//! troubleshooting screen's "Send a test mailing" (SPEC S5.4), which lands here.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::CheckerReportId;
use sealpost_service::lists::{self, ListOrder, Page};
use sealpost_service::{CheckerReport, ServiceError};
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::form_errors::{FieldErrors, Labels};
use crate::format;
use crate::layout::Layout;
use crate::pages::pager::Pager;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// How many reports the list shows.
const LIST_LIMIT: u32 = 50;

/// The search form's field as the service names it, with the form's label.
const SEARCH_LABELS: &Labels = &[("q", "search")];

/// The troubleshooting screen's sender, as the service names it when it refuses a test
/// mailing, with the screen's label.
const SENDER_LABELS: &Labels = &[("sender", "sender address")];

struct ReportRow {
    href: String,
    address: String,
    received: String,
    mail_from: String,
    score: String,
    newsletter_score: String,
    problems: usize,
    score_class: &'static str,
}

struct ProblemView {
    severity: String,
    code: String,
    found: String,
    fix: String,
    matters_for: String,
    penalty: String,
}

struct CheckView {
    name: String,
    status: String,
    found: String,
}

#[derive(Template)]
#[template(path = "checker.html")]
struct ListPage {
    layout: Layout,
    action: String,
    reports: Vec<ReportRow>,
    q: String,
    pager: Pager,
    /// A refused search beside its field; a stale page link above the list.
    errors: FieldErrors,
    /// The test address being waited for, after "Send a test mailing".
    waiting_for: Option<String>,
    message_href: Option<String>,
}

#[derive(Template)]
#[template(path = "checker_report.html")]
struct ReportPage {
    layout: Layout,
    row: ReportRow,
    helo: String,
    client_ip: String,
    problems: Vec<ProblemView>,
    checks: Vec<CheckView>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
}

#[derive(Deserialize)]
pub struct TestMailingForm {
    sender: String,
}

/// Green from 8 of 10, amber from 5, red below: the mail-tester convention people know.
fn score_class(score: f32) -> &'static str {
    if score >= 8.0 {
        "ok"
    } else if score >= 5.0 {
        "wait"
    } else {
        "bad"
    }
}

fn row(base: &str, report: &CheckerReport) -> ReportRow {
    ReportRow {
        href: format!("{base}/checker/{}", report.record.id),
        address: report.address.clone(),
        received: format::time(report.record.received_at),
        mail_from: report.record.mail_from.clone(),
        score: format!("{:.1}", report.document.score),
        newsletter_score: format!("{:.1}", report.document.newsletter_score),
        problems: report.document.problems.len(),
        score_class: score_class(report.document.score),
    }
}

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let base = tenant_path(&scope);
    let action = format!("{base}/checker");
    let token = Some(query.token.as_str()).filter(|token| !token.is_empty());
    let read = lists::page_request(None, Some(&query.cursor), LIST_LIMIT, ListOrder::Newest)
        .and_then(|request| Ok((request, lists::search(Some(&query.q))?)));
    let (page, status, errors) = match read {
        Ok((request, search)) => {
            let page = state
                .service
                .mail_tester()
                .checker_report_page(scope.tenant.id, token, search.as_deref(), &request)
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
        &[
            ("token", query.token.as_str()),
            ("address", query.address.as_str()),
            ("message", query.message.as_str()),
            ("q", query.q.as_str()),
        ],
        !query.cursor.trim().is_empty(),
        ("report", "reports"),
    );
    let reports: Vec<ReportRow> = page.items.iter().map(|report| row(&base, report)).collect();
    let waiting = token.is_some() && reports.is_empty() && !query.address.is_empty();
    let page = ListPage {
        layout: Layout::tenant(&scope, "/checker", "Checker reports"),
        action,
        q: query.q.clone(),
        pager,
        errors,
        waiting_for: waiting.then(|| query.address.clone()),
        message_href: query
            .message
            .parse::<sealpost_domain::MessageId>()
            .ok()
            .map(|message| format!("{base}/messages/{message}")),
        reports,
    };
    render(status, &page)
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id: CheckerReportId = id.parse().map_err(|_| PageError::NotFound)?;
    let report = state
        .service
        .mail_tester()
        .checker_report(scope.tenant.id, id)
        .await?;
    let page = ReportPage {
        layout: Layout::tenant(&scope, "/checker", "Checker report"),
        row: row(&tenant_path(&scope), &report),
        helo: report.record.helo.clone(),
        client_ip: report.record.client_ip.clone(),
        problems: report
            .document
            .problems
            .iter()
            .map(|problem| ProblemView {
                severity: problem.severity.clone(),
                code: problem.code.clone(),
                found: problem.found.clone(),
                fix: problem.fix.clone(),
                matters_for: problem.matters_for.clone(),
                penalty: format!("{:.1}", problem.penalty),
            })
            .collect(),
        checks: report
            .document
            .checks
            .iter()
            .map(|check| CheckView {
                name: check.name.clone(),
                status: check.status.clone(),
                found: check.found.clone(),
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

/// "Send a test mailing" from the troubleshooting screen: a fresh test address, a test
/// message from the sender to it, and the reports page waiting for its arrival.
pub async fn send_test_mailing(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<TestMailingForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .mail_tester()
        .send_test_mailing(scope.tenant.id, &form.sender)
        .await
    {
        Ok(address) => {
            let message = address
                .message_id
                .map(|message| message.to_string())
                .unwrap_or_default();
            let query = serde_urlencoded::to_string([
                ("token", address.token.as_str()),
                ("address", address.address.as_str()),
                ("message", message.as_str()),
            ])
            .unwrap_or_default();
            Ok(Redirect::to(&format!("{}/checker?{query}", tenant_path(&scope))).into_response())
        }
        Err(
            error @ (ServiceError::Invalid { .. }
            | ServiceError::Conflict(_)
            | ServiceError::Unproven(_)),
        ) => {
            let (status, errors) = FieldErrors::of(&error, SENDER_LABELS);
            let message = errors.any().unwrap_or_default().to_owned();
            crate::pages::troubleshoot::page_with_error(
                &state,
                &scope,
                &form.sender,
                status,
                message,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}
