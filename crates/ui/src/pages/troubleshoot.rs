//! Troubleshooting (SPEC S5) on one screen: pick a sender address; see its domain, whether the
//! From and MAIL FROM domains are active signing domains, and the DKIM record, SPF and DMARC
//! of the domain with what to fix; and step 4, a test mailing to the built-in mail tester.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sealpost_service::{DomainStanding, ServiceError};
use sealpost_views::dns_report::DnsReportView;
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::form_errors::{FieldErrors, Labels};
use crate::layout::Layout;
use crate::pages::domains::DomainRow;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// How many recent messages suggest sender addresses.
const SUGGESTIONS_FROM: u32 = 50;

/// The sender form's fields as the service names them, with the form's labels.
const SENDER_LABELS: &Labels = &[
    ("sender", "sender address"),
    ("mail_from", "MAIL FROM address"),
];

#[derive(Deserialize)]
pub struct SenderQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    mail_from: String,
}

/// One of the domain checks of step 2.
struct DomainStep {
    label: &'static str,
    domain: String,
    status: &'static str,
    status_class: &'static str,
    signing_domains: Vec<DomainRow>,
}

struct Diagnosis {
    from_domain: String,
    steps: Vec<DomainStep>,
    signs: bool,
    unsigned_reason: String,
}

#[derive(Template)]
#[template(path = "troubleshoot.html")]
struct TroubleshootPage {
    layout: Layout,
    action: String,
    from: String,
    mail_from: String,
    suggestions: Vec<String>,
    diagnosis: Option<Diagnosis>,
    report: Option<DnsReportView>,
    /// A refused sender or MAIL FROM, each beside its field.
    errors: FieldErrors,
    /// Why "Send a test mailing" was refused.
    test_error: Option<String>,
}

fn domain_step(
    base: &str,
    label: &'static str,
    domain: String,
    standing: &DomainStanding,
) -> DomainStep {
    let (status, status_class, signing_domain) = match standing {
        DomainStanding::Active(found) => ("present and active", "ok", Some(found)),
        DomainStanding::Inactive(found) => ("present, not active", "bad", Some(found)),
        DomainStanding::Unknown => ("not a signing domain", "bad", None),
    };
    DomainStep {
        label,
        domain,
        status,
        status_class,
        signing_domains: signing_domain
            .map(|found| DomainRow::new(base, found))
            .into_iter()
            .collect(),
    }
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<SenderQuery>,
) -> Result<Response, PageError> {
    page(&state, &scope, query, StatusCode::OK, None).await
}

/// The screen after a refused "Send a test mailing", with the reason next to the button.
pub async fn page_with_error(
    state: &UiState,
    scope: &Scope,
    sender: &str,
    status: StatusCode,
    message: String,
) -> Result<Response, PageError> {
    let query = SenderQuery {
        from: sender.to_owned(),
        mail_from: String::new(),
    };
    page(state, scope, query, status, Some(message)).await
}

async fn page(
    state: &UiState,
    scope: &Scope,
    query: SenderQuery,
    status: StatusCode,
    test_error: Option<String>,
) -> Result<Response, PageError> {
    let base = tenant_path(scope);
    let tenant = scope.tenant.id;
    let suggestions = state
        .service
        .messages()
        .recent_senders(tenant, SUGGESTIONS_FROM)
        .await?;
    let (found, errors) = if query.from.trim().is_empty() {
        (None, FieldErrors::none())
    } else {
        match state
            .service
            .messages()
            .troubleshoot(tenant, &query.from, Some(query.mail_from.as_str()))
            .await
        {
            Ok(found) => {
                let steps = vec![
                    domain_step(
                        &base,
                        "From domain",
                        found.sender_domain.to_unicode(),
                        &found.from_standing,
                    ),
                    domain_step(
                        &base,
                        "MAIL FROM domain",
                        found.mail_from_domain.to_unicode(),
                        &found.mail_from_standing,
                    ),
                ];
                let diagnosis = Diagnosis {
                    from_domain: found.sender_domain.to_unicode(),
                    steps,
                    signs: found.unsigned_reason.is_none(),
                    unsigned_reason: found.unsigned_reason.unwrap_or_default(),
                };
                let report = DnsReportView::from(&found.dns);
                (Some((diagnosis, report)), FieldErrors::none())
            }
            Err(error @ ServiceError::Invalid { .. }) => {
                (None, FieldErrors::of(&error, SENDER_LABELS).1)
            }
            Err(other) => return Err(other.into()),
        }
    };
    let status = if errors.any().is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        status
    };
    let (diagnosis, report) = match found {
        Some((diagnosis, report)) => (Some(diagnosis), Some(report)),
        None => (None, None),
    };
    let page = TroubleshootPage {
        layout: Layout::tenant(scope, "/troubleshoot", "Troubleshooting"),
        action: format!("{base}/troubleshoot"),
        from: query.from,
        mail_from: query.mail_from,
        suggestions,
        report,
        diagnosis,
        errors,
        test_error,
    };
    render(status, &page)
}
