//! Sending domains (proven sending identities): the domains a tenant has proven in DNS that it
//! controls, and so may use in From and MAIL FROM; each with its status, the TXT record that
//! proves it, "Verify now" and delete; and the form that adds one. The signing domain page
//! shows the same proof status through [`ProofView`].

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{DomainName, ProofMethod, SendingDomain, SigningDomain};
use sealpost_service::{ServiceError, VerificationFailure};
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::form_errors::{FieldErrors, Labels};
use crate::format;
use crate::layout::Layout;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// The TXT record that proves a domain, as the page shows it for copying.
pub struct RecordView {
    pub name: String,
    pub value: String,
}

impl RecordView {
    pub fn new(domain: &SendingDomain) -> Self {
        Self {
            name: domain.record_name(),
            value: domain.record_value(),
        }
    }
}

/// How a proof reads on a page: "by its DKIM record" or "by the TXT record ...".
fn method_text(domain: &SendingDomain, method: ProofMethod) -> String {
    match method {
        ProofMethod::DkimRecord => "by the DKIM record of one of its signing domains".to_owned(),
        ProofMethod::VerificationRecord => {
            format!("by the TXT record {}", domain.record_name())
        }
    }
}

/// Where a domain stands: proven (how and when), or pending with the record to publish.
pub struct ProofView {
    /// How and when the domain was proven, as a sentence; `None` while it is not.
    pub proven: Option<String>,
    /// The record that proves the domain while it is not proven, when the tenant has the
    /// domain as a sending domain (it is added with every signing domain).
    pub record: Option<RecordView>,
}

impl ProofView {
    /// The standing of `domain` among the tenant's sending domains: a proof of the domain or of
    /// one above it covers it (whoever controls a zone controls the names below it).
    pub fn of(domain: &DomainName, known: &[SendingDomain]) -> Self {
        let covering = known
            .iter()
            .filter(|candidate| candidate.covers(domain))
            .find_map(|candidate| candidate.proof.map(|proof| (candidate, proof)));
        let Some((candidate, proof)) = covering else {
            return Self {
                proven: None,
                record: known
                    .iter()
                    .find(|candidate| &candidate.domain == domain)
                    .map(RecordView::new),
            };
        };
        let how = method_text(candidate, proof.method);
        let when = format::time(proof.proven_at);
        let proven = if &candidate.domain == domain {
            format!("Proven {how} on {when}.")
        } else {
            format!(
                "Covered by the proof of {} ({how} on {when}).",
                candidate.domain.to_unicode()
            )
        };
        Self {
            proven: Some(proven),
            record: None,
        }
    }

    pub fn status(&self) -> &'static str {
        match self.proven {
            Some(_) => "proven",
            None => "pending",
        }
    }

    pub fn status_class(&self) -> &'static str {
        match self.proven {
            Some(_) => "ok",
            None => "wait",
        }
    }
}

/// One sending domain as its card on the list shows it.
struct DomainCard {
    /// The domain as typed in the path (A-labels) and in `data-domain`.
    domain: String,
    /// The domain as people read it (IDN in Unicode).
    label: String,
    proof: ProofView,
    record: RecordView,
    it_text: String,
    /// The tenant's signing domains of exactly this domain, whose DKIM record proves it too.
    signing: Vec<(String, String)>,
    action: String,
    /// Why "Verify now" did not prove this domain, shown beside its button.
    verify_error: Option<String>,
}

#[derive(Template)]
#[template(path = "sending_domains.html")]
struct ListPage {
    layout: Layout,
    base: String,
    domains: Vec<DomainCard>,
    notice: Option<String>,
    error: Option<String>,
    new_domain: String,
    new_domain_error: Option<String>,
}

/// The add form's one field, as the service names it, with the form's label.
const NEW_DOMAIN_LABELS: &Labels = &[("domain", "domain")];

#[derive(Deserialize)]
pub struct NewSendingDomainForm {
    domain: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    domain: String,
}

/// What the page shows besides the list: a notice or an error at the top, the add form's
/// refused value with its reason, or why a domain's verification did not prove it.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    new_domain: String,
    new_domain_error: Option<String>,
    /// The domain (A-labels) whose "Verify now" was refused, and why.
    verify_error: Option<(String, String)>,
}

/// The text for the tenant's IT department, ready to paste into a ticket or an e-mail.
fn it_department_text(label: &str, record: &RecordView) -> String {
    format!(
        "Hello,\n\nplease publish this DNS record so that we can send e-mail as {label}:\n\n\
         Name:  {}\nType:  TXT\nValue: {}\n\nThank you.\n",
        record.name, record.value
    )
}

fn card(
    base: &str,
    domain: &SendingDomain,
    known: &[SendingDomain],
    signing: &[SigningDomain],
    verify_error: Option<&(String, String)>,
) -> DomainCard {
    let record = RecordView::new(domain);
    let label = domain.domain.to_unicode();
    DomainCard {
        verify_error: verify_error
            .filter(|(refused, _)| refused == domain.domain.as_str())
            .map(|(_, reason)| reason.clone()),
        domain: domain.domain.as_str().to_owned(),
        it_text: it_department_text(&label, &record),
        label,
        proof: ProofView::of(&domain.domain, known),
        record,
        signing: signing
            .iter()
            .filter(|candidate| candidate.domain == domain.domain)
            .map(|candidate| {
                (
                    format!("{base}/domains/{}", candidate.id),
                    candidate.selector.as_str().to_owned(),
                )
            })
            .collect(),
        action: format!("{base}/sending-domains/{}", domain.domain.as_str()),
    }
}

/// The sentence shown after a successful action, from the code in the redirect; the domain in
/// the query is named only when it is one of the tenant's, so a link cannot put words of its
/// own on the page.
fn notice(query: &ListQuery, known: &[SendingDomain]) -> Option<String> {
    let named = known
        .iter()
        .find(|candidate| candidate.domain.as_str() == query.domain);
    match (query.notice.as_str(), named) {
        ("added", Some(domain)) => Some(format!(
            "{} was added. Publish its TXT record below, then press \"Verify now\".",
            domain.domain.to_unicode()
        )),
        ("verified", Some(domain)) if domain.proof.is_some() => Some(format!(
            "{} is proven: mail may now use it in From and MAIL FROM.",
            domain.domain.to_unicode()
        )),
        ("deleted", _) => Some(
            "The sending domain was deleted: mail using it is refused until it is added and \
             proven again."
                .to_owned(),
        ),
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
    let tenant = scope.tenant.id;
    let known = state
        .service
        .signing_domains()
        .list_sending_domains(tenant)
        .await?;
    let signing = state
        .service
        .signing_domains()
        .list_signing_domains(tenant)
        .await?;
    let page = ListPage {
        layout: Layout::tenant(scope, "/sending-domains", "Sending domains"),
        domains: known
            .iter()
            .map(|domain| {
                card(
                    &base,
                    domain,
                    &known,
                    &signing,
                    outcome.verify_error.as_ref(),
                )
            })
            .collect(),
        base,
        notice: outcome.notice,
        error: outcome.error,
        new_domain: outcome.new_domain,
        new_domain_error: outcome.new_domain_error,
    };
    render(status, &page)
}

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let known = state
        .service
        .signing_domains()
        .list_sending_domains(scope.tenant.id)
        .await?;
    let outcome = Outcome {
        notice: notice(&query, &known),
        ..Outcome::default()
    };
    list_page(&state, &scope, StatusCode::OK, outcome).await
}

/// After a successful action, back to the list with a notice (post, redirect, get), so
/// reloading the page does not repeat the action.
fn done(scope: &Scope, code: &str, domain: &DomainName) -> Response {
    Redirect::to(&format!(
        "{}/sending-domains?notice={code}&domain={}",
        tenant_path(scope),
        domain.as_str()
    ))
    .into_response()
}

pub async fn create(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<NewSendingDomainForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .signing_domains()
        .add_sending_domain(scope.tenant.id, form.domain.trim())
        .await
    {
        Ok(domain) => Ok(done(&scope, "added", &domain.domain)),
        Err(error @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let (status, errors) = FieldErrors::of(&error, NEW_DOMAIN_LABELS);
            let outcome = Outcome {
                new_domain: form.domain,
                new_domain_error: errors.any().map(str::to_owned),
                ..Outcome::default()
            };
            list_page(&state, &scope, status, outcome).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Why DNS did not prove the domain, beside its "Verify now": what the lookups found, and what
/// to do, pointing at the record the card shows rather than repeating it.
fn not_proven(failure: &VerificationFailure) -> String {
    format!(
        "DNS does not show the proof yet: {}. Publish the TXT record shown here (or the DKIM \
         record of a signing domain of {}), then press \"Verify now\" again. DNS changes can \
         take a few minutes to be seen.",
        failure.found,
        failure.domain.to_unicode()
    )
}

/// A refused verification shows the list again: DNS's answer beside the domain's "Verify now",
/// anything else at the top.
async fn refused(
    state: &UiState,
    scope: &Scope,
    error: ServiceError,
) -> Result<Response, PageError> {
    let (status, message) = service_status(&error);
    let outcome = match error {
        ServiceError::NotProven(failure) => Outcome {
            verify_error: Some((failure.domain.as_str().to_owned(), not_proven(&failure))),
            ..Outcome::default()
        },
        ServiceError::Invalid { .. } => Outcome {
            error: Some(message),
            ..Outcome::default()
        },
        other => return Err(other.into()),
    };
    list_page(state, scope, status, outcome).await
}

/// Looks the proof up in DNS now. Only a domain the tenant has is verified here: the service
/// would add an unknown one first, which a forged path should not do.
pub async fn verify(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, domain)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let tenant = scope.tenant.id;
    let domain = state
        .service
        .signing_domains()
        .sending_domain(tenant, &domain)
        .await?;
    match state
        .service
        .signing_domains()
        .verify_sending_domain(tenant, domain.domain.as_str())
        .await
    {
        Ok(proven) => Ok(done(&scope, "verified", &proven.domain)),
        Err(error) => refused(&state, &scope, error).await,
    }
}

pub async fn delete(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, domain)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let tenant = scope.tenant.id;
    let domain = state
        .service
        .signing_domains()
        .sending_domain(tenant, &domain)
        .await?;
    state
        .service
        .signing_domains()
        .delete_sending_domain(tenant, domain.domain.as_str())
        .await?;
    Ok(done(&scope, "deleted", &domain.domain))
}
