//! Signing domains (SPEC S3): the list with status badges and the form for a new one; each
//! domain's page with its key (generate, import, read-only public facts), the DNS record to
//! publish, activation, and the DNS check with its fixes, SPF and DMARC guidance included.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{SigningDomain, SigningDomainId};
use sealpost_service::{KeyImport, ServiceError};
use sealpost_views::dns_report::DnsReportView;
use sealpost_views::signing_domains::KeyView;
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::form_errors::{FieldErrors, Labels};
use crate::format;
use crate::layout::Layout;
use crate::pages::dns_handoff;
use crate::pages::sending_domains::ProofView;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// A signing domain as a list shows it.
pub struct DomainRow {
    pub href: String,
    pub domain: String,
    pub selector: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

impl DomainRow {
    pub fn new(base: &str, domain: &SigningDomain) -> Self {
        let (status, status_class) = match (domain.active, &domain.key) {
            (true, _) => ("active", "ok"),
            (false, Some(_)) => ("key ready, not active", "wait"),
            (false, None) => ("no key yet", "bad"),
        };
        Self {
            href: format!("{base}/domains/{}", domain.id),
            domain: domain.domain.to_unicode(),
            selector: domain.selector.as_str().to_owned(),
            status,
            status_class,
        }
    }
}

#[derive(Template)]
#[template(path = "domains.html")]
struct ListPage {
    layout: Layout,
    base: String,
    domains: Vec<DomainRow>,
    errors: FieldErrors,
    new_domain: String,
    new_selector: String,
}

#[derive(Template)]
#[template(path = "domain.html")]
struct DomainPage {
    layout: Layout,
    action: String,
    row: DomainRow,
    active: bool,
    /// The key's public facts; the private key is never shown.
    key: Option<KeyView>,
    /// When the key was made, as people read it.
    key_created: String,
    handoff: dns_handoff::Handoff,
    /// Whether the domain is proven, and the verification record while it is not.
    proof: ProofView,
    sending_href: String,
    report: Option<DnsReportView>,
    notice: Option<&'static str>,
    error: Option<String>,
    /// Open the import form, when the error was about the imported key.
    import_open: bool,
    /// The key text typed into the import form, given back after a refusal.
    import_pem: String,
}

/// The new-domain form's fields, as the service names them, with the form's labels.
const NEW_DOMAIN_LABELS: &Labels = &[("domain", "domain"), ("selector", "DKIM selector")];

#[derive(Deserialize)]
pub struct NewDomainForm {
    domain: String,
    selector: String,
}

#[derive(Deserialize)]
pub struct ImportForm {
    pem: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    check: String,
}

fn domain_id(id: &str) -> Result<SigningDomainId, PageError> {
    id.parse().map_err(|_| PageError::NotFound)
}

/// The sentence shown after a successful action, from the code in the redirect.
fn notice(code: &str) -> Option<&'static str> {
    match code {
        "created" => Some("Signing domain added. Next: generate a key pair or import a key."),
        "generated" => Some("A new RSA-2048 key pair was generated. Publish the DNS record below."),
        "imported" => Some("The key was imported and stored encrypted."),
        "activated" => Some("The signing domain is active: mail from it is signed."),
        "deactivated" => Some("The signing domain is inactive: mail from it is not signed."),
        _ => None,
    }
}

async fn list_page(
    state: &UiState,
    scope: &Scope,
    status: StatusCode,
    form: Option<(NewDomainForm, FieldErrors)>,
) -> Result<Response, PageError> {
    let base = tenant_path(scope);
    let domains = state
        .service
        .signing_domains()
        .list_signing_domains(scope.tenant.id)
        .await?
        .iter()
        .map(|domain| DomainRow::new(&base, domain))
        .collect();
    let (new_domain, new_selector, errors) = match form {
        Some((form, errors)) => (form.domain, form.selector, errors),
        None => (String::new(), "workplace".to_owned(), FieldErrors::none()),
    };
    let page = ListPage {
        layout: Layout::tenant(scope, "/domains", "Signing domains"),
        base,
        domains,
        errors,
        new_domain,
        new_selector,
    };
    render(status, &page)
}

pub async fn list(State(state): State<UiState>, scope: Scope) -> Result<Response, PageError> {
    list_page(&state, &scope, StatusCode::OK, None).await
}

pub async fn create(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<NewDomainForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .signing_domains()
        .add_signing_domain(scope.tenant.id, &form.domain, &form.selector)
        .await
    {
        Ok(domain) => Ok(Redirect::to(&format!(
            "{}/domains/{}?notice=created",
            tenant_path(&scope),
            domain.id
        ))
        .into_response()),
        Err(error @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let (status, errors) = FieldErrors::of(&error, NEW_DOMAIN_LABELS);
            list_page(&state, &scope, status, Some((form, errors))).await
        }
        Err(other) => Err(other.into()),
    }
}

/// What a domain's page shows besides the domain: a notice or check from the query, and an
/// error with whether it came from the import form.
struct Shown {
    query: ShowQuery,
    error: Option<String>,
    import_open: bool,
    /// The key text typed into the import form, given back after a refusal; never stored.
    import_pem: String,
}

async fn domain_page(
    state: &UiState,
    scope: &Scope,
    id: SigningDomainId,
    status: StatusCode,
    shown: Shown,
) -> Result<Response, PageError> {
    let Shown {
        query,
        error,
        import_open,
        import_pem,
    } = shown;
    let service = &state.service;
    let tenant = scope.tenant.id;
    let domain = service.signing_domains().signing_domain(tenant, id).await?;
    let base = tenant_path(scope);
    let report = if query.check == "now" {
        Some(DnsReportView::from(
            &service
                .signing_domains()
                .check_signing_domain_dns(tenant, id)
                .await?,
        ))
    } else {
        None
    };
    let key = domain.key.as_ref().map(KeyView::from);
    let key_created = domain
        .key
        .as_ref()
        .map(|key| format::time(key.created_at))
        .unwrap_or_default();
    let proof = ProofView::of(
        &domain.domain,
        &service
            .signing_domains()
            .list_sending_domains(tenant)
            .await?,
    );
    let row = DomainRow::new(&base, &domain);
    let page = DomainPage {
        layout: Layout::tenant(scope, "/domains", format!("Signing domain {}", row.domain)),
        action: row.href.clone(),
        handoff: dns_handoff::Handoff::of(
            &service.signing_domains().dns_handoff(tenant, id).await?,
        ),
        row,
        active: domain.active,
        key,
        key_created,
        proof,
        sending_href: format!("{base}/sending-domains"),
        report,
        notice: notice(&query.notice),
        error,
        import_open,
        import_pem,
    };
    render(status, &page)
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let shown = Shown {
        query,
        error: None,
        import_open: false,
        import_pem: String::new(),
    };
    domain_page(&state, &scope, domain_id(&id)?, StatusCode::OK, shown).await
}

/// After a successful action, back to the domain's page with a notice (post, redirect, get),
/// so reloading the page does not repeat the action.
fn done(scope: &Scope, id: SigningDomainId, code: &str) -> Response {
    Redirect::to(&format!(
        "{}/domains/{id}?notice={code}",
        tenant_path(scope)
    ))
    .into_response()
}

/// A refused action shows the domain's page again with the reason at the top (an activation
/// refused for want of proof names what DNS showed); key text typed into the import form
/// comes back only through `refused_with_key_text`.
async fn refused(
    state: &UiState,
    scope: &Scope,
    id: SigningDomainId,
    error: ServiceError,
) -> Result<Response, PageError> {
    refused_with_key_text(state, scope, id, error, String::new()).await
}

/// A refused action whose form carried key text: the text comes back in the import form, so
/// that a wrong password does not cost the pasted key. It is the person's own text, in the
/// answer to their own request, which is never cached.
async fn refused_with_key_text(
    state: &UiState,
    scope: &Scope,
    id: SigningDomainId,
    error: ServiceError,
    import_pem: String,
) -> Result<Response, PageError> {
    match error {
        ServiceError::Invalid { .. }
        | ServiceError::Import(_)
        | ServiceError::NoKey
        | ServiceError::NotProven(_) => {
            let (status, message) = service_status(&error);
            let shown = Shown {
                query: ShowQuery {
                    notice: String::new(),
                    check: String::new(),
                },
                error: Some(message),
                import_open: matches!(
                    error,
                    ServiceError::Invalid { .. } | ServiceError::Import(_)
                ),
                import_pem,
            };
            domain_page(state, scope, id, status, shown).await
        }
        other => Err(other.into()),
    }
}

pub async fn generate_key(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = domain_id(&id)?;
    match state
        .service
        .signing_domains()
        .generate_key(scope.tenant.id, id)
        .await
    {
        Ok(_) => Ok(done(&scope, id, "generated")),
        Err(error) => refused(&state, &scope, id, error).await,
    }
}

pub async fn import_key(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<ImportForm>,
) -> Result<Response, PageError> {
    let id = domain_id(&id)?;
    let import = KeyImport {
        pem: &form.pem,
        password: Some(form.password.as_str()).filter(|password| !password.is_empty()),
    };
    match state
        .service
        .signing_domains()
        .import_key(scope.tenant.id, id, import)
        .await
    {
        Ok(_) => Ok(done(&scope, id, "imported")),
        Err(error) => refused_with_key_text(&state, &scope, id, error, form.pem.clone()).await,
    }
}

pub async fn set_active(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<ActiveForm>,
) -> Result<Response, PageError> {
    let id = domain_id(&id)?;
    let active = form.active == "true";
    match state
        .service
        .signing_domains()
        .update_signing_domain(scope.tenant.id, id, Some(active), None)
        .await
    {
        Ok(_) => Ok(done(
            &scope,
            id,
            if active { "activated" } else { "deactivated" },
        )),
        Err(error) => refused(&state, &scope, id, error).await,
    }
}
