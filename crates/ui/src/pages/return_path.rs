//! The "Return path (bounces)" section of a signing domain's page (SPEC S10.1): the subdomain
//! that bounces come back to (such as bounces.client.example), the MX and SPF records it needs,
//! each with copy buttons, "Check now" with what DNS showed per record, and removal behind a
//! confirmation. On a platform that cannot receive bounces the section says so instead of
//! asking for records that would lead nowhere.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{DomainName, ReturnPath, SigningDomainId, TenantId, Timestamp};
use sealpost_service::{ReturnPathCheck, ReturnPathRecord, ServiceError};
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::form_errors::full_stop;
use crate::format;
use crate::pages::domains::{self, Shown as DomainShown};
use crate::pages::tenant_path;
use crate::session::Scope;

/// One record the return-path domain needs, with what a check just found.
pub struct RecordRow {
    /// The prefix of its element ids: `return-path-mx` or `return-path-spf`.
    pub id: &'static str,
    pub title: &'static str,
    pub why: &'static str,
    pub name: String,
    /// The name as DNS providers' forms ask for it, relative to the zone.
    pub host: String,
    pub kind: &'static str,
    pub value: String,
    /// After "Check now": whether DNS has it as needed.
    pub found: Option<bool>,
    /// After "Check now": what is wrong with it, as a sentence.
    pub problem: Option<String>,
}

impl RecordRow {
    fn new(record: &ReturnPathRecord, zone: &str, found: Option<&Result<(), String>>) -> Self {
        let (id, title, why) = match record.kind {
            "MX" => (
                "return-path-mx",
                "MX: bounces come back to Sealpost",
                "Receiving servers send their bounces to the mail server this record names: the \
                 platform's. Some DNS providers ask for the priority (10) and the mail server \
                 separately.",
            ),
            _ => (
                "return-path-spf",
                "SPF: allow the platform",
                "Receiving servers accept the platform's servers as senders for this domain.",
            ),
        };
        Self {
            id,
            title,
            why,
            name: record.name.clone(),
            host: relative_name(&record.name, zone),
            kind: record.kind,
            value: record.value.clone(),
            found: found.map(Result::is_ok),
            problem: found
                .and_then(|found| found.as_ref().err())
                .map(|text| dns_shows(text)),
        }
    }
}

/// What a check found wrong, as a sentence. The service's text often starts with a domain name,
/// which must keep its lower case, so the sentence starts before it.
fn dns_shows(problem: &str) -> String {
    format!("What DNS shows: {}.", problem.trim().trim_end_matches('.'))
}

/// `name` without the zone: a return-path domain lies below its signing domain, which lies in
/// the zone, so the zone is always its end (the whole name is kept if it ever is not).
fn relative_name(name: &str, zone: &str) -> String {
    name.strip_suffix(&format!(".{zone}"))
        .unwrap_or(name)
        .to_owned()
}

/// The return-path domain that is set, with its records.
pub struct Current {
    pub name: String,
    /// Whether mail uses it: a check found its records right.
    pub verified_at: Option<String>,
    /// Empty when the platform cannot receive bounces.
    pub records: Vec<RecordRow>,
    /// After "Check now": the outcome in one sentence.
    pub check_summary: Option<String>,
}

/// What "Check now" found, in one sentence.
fn check_summary(domain: &DomainName, entry: &ReturnPath, records: &[RecordRow]) -> String {
    let missing = records
        .iter()
        .filter(|record| record.found == Some(false))
        .count();
    match missing {
        0 => format!(
            "Both records were found: mail from {domain} goes out with the return path {} from \
             now on.",
            entry.return_path
        ),
        _ => format!(
            "Not in use yet: {} missing. Publish what is marked missing below and check again; \
             new records can take up to an hour to show.",
            format::count(missing as u64, ("record is", "records are"))
        ),
    }
}

/// The section's content.
pub struct Section {
    /// Where its forms post, below the domain's page.
    pub action: String,
    pub domain: String,
    /// The name the form suggests: `bounces.` and the domain.
    pub suggestion: String,
    /// Whether the platform can receive bounces (it has an inbound host and an SPF include).
    pub receives: bool,
    pub current: Option<Current>,
    /// The value of the form's field.
    pub typed: String,
    /// Why the typed name was refused, as a sentence.
    pub field_error: Option<String>,
    /// Why "Check now" could not check, as a sentence.
    pub problem: Option<String>,
}

/// What the section shows besides what is stored: a refused form, or a check just made.
#[derive(Default)]
pub struct Shown {
    typed: Option<String>,
    field_error: Option<String>,
    problem: Option<String>,
    check: Option<ReturnPathCheck>,
}

/// The return path stored for `domain`, which the section shows unless a check was just made
/// (the check carries its own): read apart from [`section`], so that the domain's page reads it
/// at once with its other parts.
pub async fn stored(
    state: &UiState,
    tenant: TenantId,
    domain: &DomainName,
    shown: &Shown,
) -> Result<Option<ReturnPath>, PageError> {
    if shown.check.is_some() {
        return Ok(None);
    }
    match state
        .service
        .feedback()
        .return_path(tenant, domain.as_str())
        .await
    {
        Ok(entry) => Ok(Some(entry)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// The section for `domain`, whose page is at `href`, with the return path [`stored`] read;
/// `zone` is the DNS zone of the page's other records.
pub fn section(
    state: &UiState,
    tenant: TenantId,
    domain: &DomainName,
    (href, zone): (&str, &str),
    shown: Shown,
    stored: Option<ReturnPath>,
) -> Section {
    let feedback = state.service.feedback();
    let suggestion = format!("bounces.{domain}");
    let (entry, found) = match shown.check {
        Some(check) => (Some(check.return_path), Some(check.records)),
        None => (stored, None),
    };
    // Whether bounces can come back is whether the platform has records to ask for; without a
    // return path set, the suggested one is asked (a pure function: nothing is stored or
    // looked up).
    let receives = match (&entry, DomainName::parse(&suggestion)) {
        (Some(entry), _) => !feedback.records_to_publish(entry).is_empty(),
        (None, Ok(suggested)) => !feedback
            .records_to_publish(&ReturnPath {
                tenant_id: tenant,
                domain: domain.clone(),
                return_path: suggested,
                created_at: Timestamp(0),
                verified_at: None,
            })
            .is_empty(),
        (None, Err(_)) => true,
    };
    let current = entry.map(|entry| {
        let records: Vec<RecordRow> = match &found {
            Some(found) => found
                .iter()
                .map(|(record, result)| RecordRow::new(record, zone, Some(result)))
                .collect(),
            None => feedback
                .records_to_publish(&entry)
                .iter()
                .map(|record| RecordRow::new(record, zone, None))
                .collect(),
        };
        Current {
            name: entry.return_path.to_string(),
            verified_at: entry.verified_at.map(format::time),
            check_summary: found
                .is_some()
                .then(|| check_summary(domain, &entry, &records)),
            records,
        }
    });
    Section {
        action: format!("{href}/return-path"),
        domain: domain.to_string(),
        typed: shown.typed.unwrap_or_else(|| match &current {
            Some(current) => current.name.clone(),
            None => suggestion.clone(),
        }),
        suggestion,
        receives,
        current,
        field_error: shown.field_error,
        problem: shown.problem,
    }
}

#[derive(Deserialize)]
pub struct SetForm {
    return_path: String,
}

/// Why a typed return-path domain was refused, as a sentence that says what to type instead.
fn refusal(domain: &DomainName, typed: &str, error: &ServiceError) -> String {
    let suggestion = format!("bounces.{domain}");
    let typed = typed.trim();
    if typed.is_empty() {
        return format!("Enter the return-path domain, such as {suggestion}.");
    }
    match (error, DomainName::parse(typed)) {
        (ServiceError::Conflict(_), Ok(name)) => format!(
            "Another signing domain already uses {name} as its return path: choose another name."
        ),
        (_, Ok(name)) if ReturnPath::check(domain, &name).is_err() => format!(
            "Enter a subdomain of {domain}, such as {suggestion}: {name} is not part of \
             {domain}, so receivers would not count it as your domain."
        ),
        _ => match error {
            // The field is the form's only one: its message stands without the field's name.
            ServiceError::Invalid { message, .. } => full_stop(message),
            other => full_stop(&service_status(other).1),
        },
    }
}

async fn signing_domain(
    state: &UiState,
    scope: &Scope,
    id: &str,
) -> Result<(SigningDomainId, DomainName), PageError> {
    let id: SigningDomainId = id.parse().map_err(|_| PageError::NotFound)?;
    let domain = state
        .service
        .signing_domains()
        .signing_domain(scope.tenant.id, id)
        .await?;
    Ok((id, domain.domain))
}

/// The domain's page, scrolled to this section, with a notice.
fn done(scope: &Scope, id: SigningDomainId, code: &str) -> Response {
    Redirect::to(&format!(
        "{}/domains/{id}?notice={code}#return-path",
        tenant_path(scope)
    ))
    .into_response()
}

pub async fn set(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<SetForm>,
) -> Result<Response, PageError> {
    let (id, domain) = signing_domain(&state, &scope, &id).await?;
    match state
        .service
        .feedback()
        .set_return_path(scope.tenant.id, domain.as_str(), &form.return_path)
        .await
    {
        Ok(_) => Ok(done(&scope, id, "return-path-set")),
        Err(error @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let (status, _) = service_status(&error);
            let shown = Shown {
                field_error: Some(refusal(&domain, &form.return_path, &error)),
                typed: Some(form.return_path),
                ..Shown::default()
            };
            domains::domain_page(&state, &scope, id, status, DomainShown::return_path(shown)).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Looks the records up now and shows what DNS has for each; when both are right, mail from
/// the domain uses the return path from then on.
pub async fn check(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (id, domain) = signing_domain(&state, &scope, &id).await?;
    let shown = match state
        .service
        .feedback()
        .check_return_path(scope.tenant.id, domain.as_str())
        .await
    {
        Ok(check) => Shown {
            check: Some(check),
            ..Shown::default()
        },
        Err(error @ (ServiceError::Conflict(_) | ServiceError::NotFound(_))) => Shown {
            problem: Some(full_stop(&service_status(&error).1)),
            ..Shown::default()
        },
        Err(other) => return Err(other.into()),
    };
    let shown = DomainShown::return_path(shown);
    domains::domain_page(&state, &scope, id, StatusCode::OK, shown).await
}

pub async fn remove(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (id, domain) = signing_domain(&state, &scope, &id).await?;
    state
        .service
        .feedback()
        .remove_return_path(scope.tenant.id, domain.as_str())
        .await?;
    Ok(done(&scope, id, "return-path-removed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(typed: &str, error: ServiceError, expect: &str) {
        let domain = DomainName::parse("client.example").unwrap();
        assert_eq!(refusal(&domain, typed, &error), expect);
    }

    fn invalid(message: &str) -> ServiceError {
        ServiceError::Invalid {
            field: "return_path",
            message: message.to_owned(),
        }
    }

    #[test]
    fn a_refused_return_path_reads_as_what_to_type() {
        check(
            " ",
            invalid("the domain is empty"),
            "Enter the return-path domain, such as bounces.client.example.",
        );
        check(
            "bounces.other.example",
            invalid("bounces.other.example is not below client.example"),
            "Enter a subdomain of client.example, such as bounces.client.example: \
             bounces.other.example is not part of client.example, so receivers would not count \
             it as your domain.",
        );
        check(
            "bad name.client.example",
            invalid(
                "\"bad name.client.example\" is not a valid domain name: it contains white space",
            ),
            "\"bad name.client.example\" is not a valid domain name: it contains white space.",
        );
        check(
            "Bounces.Client.Example",
            ServiceError::Conflict("taken".to_owned()),
            "Another signing domain already uses bounces.client.example as its return path: \
             choose another name.",
        );
    }

    #[test]
    fn record_hosts_are_relative_to_the_zone() {
        assert_eq!(
            relative_name("bounces.client.example", "client.example"),
            "bounces"
        );
        assert_eq!(
            relative_name("bounces.mail.client.example", "client.example"),
            "bounces.mail"
        );
    }
}
