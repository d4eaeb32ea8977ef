//! Signing domains (SPEC S3, S11): the list with status and DNS badges and the form for a new
//! one; each domain's page with its keys and their states (generate, import, promote, the
//! read-only public facts), the DNS record to publish, activation (gated on DNS, forcing visible),
//! the DNS check with its fixes, and the domain's history. Key promotion, deletion and the
//! selector are in `domain_keys`; the return-path section is in `return_path`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{DnsState, KeyAlgorithm, SigningDomain, SigningDomainId};
use sealpost_service::{DnsGate, KeyImport, ServiceError};
use sealpost_views::dns_report::DnsReportView;
use sealpost_views::signing_domains::{DomainEventView, KeyView, SigningDomainView};
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::form_errors::{FieldErrors, Labels};
use crate::format;
use crate::layout::Layout;
use crate::pages::dns_records::RecordLine;
use crate::pages::sending_domains::ProofView;
use crate::pages::{dns_handoff, key_rotation, return_path};
use crate::pages::{page_part, render, tenant_path};
use crate::session::Scope;

/// A signing domain as a list shows it: whether it signs, and its DNS state with the last
/// check's result and time (SPEC S11.2).
pub struct DomainRow {
    pub href: String,
    pub domain: String,
    /// The current key's selector, or the domain's while it has no key.
    pub selector: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub dns_status: &'static str,
    pub dns_class: &'static str,
    /// "Checked <time>: <result>", or that no check has run yet.
    pub dns_checked: String,
}

impl DomainRow {
    pub fn new(base: &str, domain: &SigningDomain) -> Self {
        let (status, status_class) = match (domain.active, domain.current_key()) {
            (true, _) => ("active", "ok"),
            (false, Some(_)) => ("key ready, not active", "wait"),
            (false, None) => ("no key yet", "bad"),
        };
        let (dns_status, dns_class) = match domain.dns.state {
            DnsState::Pending => ("DNS pending", "wait"),
            DnsState::Verified => ("DNS verified", "ok"),
            DnsState::Warning => ("DNS warning", "warning"),
            DnsState::Failed => ("DNS failed", "bad"),
        };
        let dns_checked = match &domain.dns.last_check {
            Some(check) => format!("Checked {}: {}", format::time(check.at), check.summary),
            None => "Not checked yet.".to_owned(),
        };
        Self {
            href: format!("{base}/domains/{}", domain.id),
            domain: domain.domain.to_unicode(),
            selector: domain
                .current_key()
                .map_or(&domain.selector, |key| &key.selector)
                .as_str()
                .to_owned(),
            status,
            status_class,
            dns_status,
            dns_class,
            dns_checked,
        }
    }
}

/// One key as the domain's page lists it.
pub struct KeyRow {
    pub id: String,
    pub selector: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub since: String,
    pub forced: bool,
    pub next_step: String,
    pub record_name: String,
}

impl From<&KeyView> for KeyRow {
    fn from(key: &KeyView) -> Self {
        Self {
            id: key.id.clone(),
            selector: key.selector.clone(),
            state: key.state,
            state_class: match key.state {
                "active" => "ok",
                "pending" | "retiring" => "wait",
                _ => "muted",
            },
            since: format::time(sealpost_domain::Timestamp(key.state_since)),
            forced: key.forced,
            next_step: key.next_step.clone(),
            record_name: key.record_name.clone(),
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
    /// The current key's public facts; the private key is never shown.
    key: Option<KeyView>,
    /// Every key with its state and what to do about it.
    keys: Vec<KeyRow>,
    /// What the tenant must do next about the domain.
    next_step: String,
    /// When automatic rotation replaces the domain's keys next, or what to do meanwhile.
    rotation: String,
    /// The selector the next key gets.
    next_selector: String,
    /// The selector the next Ed25519 key gets.
    ed25519_selector: String,
    /// Whether a refused activation may be forced (DNS does not carry the key).
    offer_force: bool,
    history: Vec<(String, DomainEventView)>,
    /// The records beside DKIM as the last re-check found them.
    records: Vec<RecordLine>,
    /// When the key was made, as people read it.
    key_created: String,
    handoff: dns_handoff::Handoff,
    return_path: return_path::Section,
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
    /// Empty for RSA, `ed25519` for the optional Ed25519 key.
    #[serde(default)]
    algorithm: String,
}

#[derive(Deserialize, Default)]
pub struct GenerateForm {
    /// Empty for RSA, `ed25519` for the optional Ed25519 key.
    #[serde(default)]
    algorithm: String,
}

/// The algorithm a key form asks for: RSA unless it says `ed25519`.
fn form_algorithm(text: &str) -> Result<KeyAlgorithm, ServiceError> {
    match text {
        "" => Ok(KeyAlgorithm::Rsa),
        other => KeyAlgorithm::parse(other).ok_or_else(|| ServiceError::Invalid {
            field: "algorithm",
            message: "choose an RSA or an Ed25519 key".to_owned(),
        }),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
    /// "true" to switch on although DNS does not carry the key.
    #[serde(default)]
    force: String,
}

#[derive(Deserialize, Default)]
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
        "generated" => Some(
            "A new RSA-2048 key pair was generated. It waits for its DNS record; any active key \
             keeps signing until DNS carries the new one.",
        ),
        "imported" => Some(
            "The key was imported and stored encrypted. It waits for its DNS record; any active \
             key keeps signing until DNS carries the new one.",
        ),
        "ed25519" => Some(
            "The Ed25519 key was added. Publish its DNS record too; once DNS carries it, every \
             message gets a second signature (Ed25519) below the RSA one.",
        ),
        "promoted" => Some("The new key signs from now on; the previous key is retiring."),
        "selector" => Some("The selector was changed."),
        "activated" => Some("The signing domain is active: mail from it is signed."),
        "deactivated" => Some("The signing domain is inactive: mail from it is not signed."),
        "return-path-set" => Some(
            "The return-path domain was saved. Next: publish its two records below, then press \
             \"Check now\" in the return-path section.",
        ),
        "return-path-removed" => Some(
            "The return-path domain was removed: mail keeps its own return address, and bounces \
             no longer come back to Sealpost.",
        ),
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

/// What a domain's page shows besides the domain: a notice or check from the query, an error
/// with whether it came from the import form, and the return-path section's form or check.
#[derive(Default)]
pub(crate) struct Shown {
    query: ShowQuery,
    error: Option<String>,
    import_open: bool,
    /// The key text typed into the import form, given back after a refusal; never stored.
    import_pem: String,
    /// Offer to switch signing on by force (an activation DNS refused).
    offer_force: bool,
    return_path: return_path::Shown,
}

impl Shown {
    /// The page after a return-path action that shows its outcome in place.
    pub(crate) fn return_path(return_path: return_path::Shown) -> Self {
        Self {
            return_path,
            ..Self::default()
        }
    }
}

pub(crate) async fn domain_page(
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
        offer_force,
        return_path,
    } = shown;
    let service = &state.service;
    let tenant = scope.tenant.id;
    let base = tenant_path(scope);
    let report = if query.check == "now" {
        // A domain that is not the tenant's is not found before anything is checked.
        service.signing_domains().signing_domain(tenant, id).await?;
        Some(DnsReportView::from(
            &service
                .signing_domains()
                .check_signing_domain_dns(tenant, id)
                .await?,
        ))
    } else {
        None
    };
    // The check may have promoted a key or changed the DNS state: read the domain after it.
    let domain = service.signing_domains().signing_domain(tenant, id).await?;
    let key_created = domain
        .current_key()
        .map(|key| format::time(key.created_at))
        .unwrap_or_default();
    let next_selector = domain.next_selector().as_str().to_owned();
    let ed25519_selector = domain
        .next_selector_for(KeyAlgorithm::Ed25519)
        .as_str()
        .to_owned();
    let view = SigningDomainView::from(domain.clone());
    let keys = view.keys.iter().map(KeyRow::from).collect();
    let records = view.dns_records.iter().map(RecordLine::from).collect();
    let signing_domains = service.signing_domains();
    let (sending_domains, handoff, history, rotation, stored_return_path) = tokio::try_join!(
        page_part(signing_domains.list_sending_domains(tenant)),
        page_part(signing_domains.dns_handoff_of(domain.clone())),
        history(state, &domain),
        page_part(signing_domains.key_rotation(tenant)),
        return_path::stored(state, tenant, &domain.domain, &return_path),
    )?;
    let proof = ProofView::of(&domain.domain, &sending_domains);
    let row = DomainRow::new(&base, &domain);
    let handoff = dns_handoff::Handoff::of(&handoff);
    let return_path = return_path::section(
        state,
        tenant,
        &domain.domain,
        (&row.href, &handoff.zone),
        return_path,
        stored_return_path,
    );
    let page = DomainPage {
        layout: Layout::tenant(scope, "/domains", format!("Signing domain {}", row.domain)),
        action: row.href.clone(),
        handoff,
        return_path,
        row,
        active: domain.active,
        key: view.key,
        keys,
        next_step: view.next_step,
        rotation: key_rotation::domain_line(&domain, rotation),
        next_selector,
        ed25519_selector,
        offer_force,
        history,
        records,
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
        ..Shown::default()
    };
    domain_page(&state, &scope, domain_id(&id)?, StatusCode::OK, shown).await
}

/// The domain's history, oldest first, each event with its time as people read it.
async fn history(
    state: &UiState,
    domain: &SigningDomain,
) -> Result<Vec<(String, DomainEventView)>, PageError> {
    Ok(state
        .service
        .signing_domains()
        .history_of(domain)
        .await?
        .into_iter()
        .map(|event| {
            (
                format::time(sealpost_domain::Timestamp(event.at)),
                event.into(),
            )
        })
        .collect())
}

/// After a successful action, back to the domain's page with a notice (post, redirect, get),
/// so reloading the page does not repeat the action.
pub(crate) fn done(scope: &Scope, id: SigningDomainId, code: &str) -> Response {
    Redirect::to(&format!(
        "{}/domains/{id}?notice={code}",
        tenant_path(scope)
    ))
    .into_response()
}

/// A refused action shows the domain's page again with the reason at the top (an activation
/// refused for want of proof or of the key's record names what DNS showed); the key text typed
/// into the import form is deliberately not shown back.
pub(crate) async fn refused(
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
        | ServiceError::Conflict(_)
        | ServiceError::KeyNotPublished(_)
        | ServiceError::NotProven(_) => {
            let (status, message) = service_status(&error);
            let shown = Shown {
                error: Some(message),
                import_open: matches!(error, ServiceError::Import(_))
                    || matches!(error, ServiceError::Invalid { field, .. } if field != "selector"),
                import_pem,
                offer_force: matches!(error, ServiceError::KeyNotPublished(_)),
                ..Shown::default()
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
    Form(form): Form<GenerateForm>,
) -> Result<Response, PageError> {
    let id = domain_id(&id)?;
    let result = match form_algorithm(&form.algorithm) {
        Ok(algorithm) => state
            .service
            .signing_domains()
            .generate_key_of(scope.tenant.id, id, algorithm)
            .await
            .map(|_| algorithm),
        Err(error) => Err(error),
    };
    match result {
        Ok(KeyAlgorithm::Rsa) => Ok(done(&scope, id, "generated")),
        Ok(KeyAlgorithm::Ed25519) => Ok(done(&scope, id, "ed25519")),
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
    let result = match form_algorithm(&form.algorithm) {
        Ok(algorithm) => state
            .service
            .signing_domains()
            .import_key_of(scope.tenant.id, id, algorithm, import)
            .await
            .map(|_| algorithm),
        Err(error) => Err(error),
    };
    match result {
        Ok(KeyAlgorithm::Rsa) => Ok(done(&scope, id, "imported")),
        Ok(KeyAlgorithm::Ed25519) => Ok(done(&scope, id, "ed25519")),
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
    let gate = if form.force == "true" {
        DnsGate::Force
    } else {
        DnsGate::RequireRecord
    };
    let domains = state.service.signing_domains();
    let result = if active {
        domains.activate(scope.tenant.id, id, gate).await
    } else {
        domains.deactivate(scope.tenant.id, id).await
    };
    match result {
        Ok(_) => Ok(done(
            &scope,
            id,
            if active { "activated" } else { "deactivated" },
        )),
        Err(error) => refused(&state, &scope, id, error).await,
    }
}
