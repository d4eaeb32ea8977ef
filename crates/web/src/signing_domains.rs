//! Tenant routes: signing domains (SPEC S3). The tenant comes from the API key; an id of
//! another tenant's domain is simply not found (404), never "forbidden", so ids reveal nothing.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use sealpost_domain::SigningDomainId;
use sealpost_service::{DnsGate, KeyImport};
use sealpost_views::dns_report::DnsReportView;
use sealpost_views::signing_domains::{DelegationRecordView, DnsRecordView, SigningDomainView};

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::requests::{
    GenerateKeyRequest, ImportKeyRequest, NewSigningDomainRequest, UpdateSigningDomainRequest,
};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/signing-domains", get(list).post(create))
        .route(
            "/api/v1/signing-domains/{id}",
            get(show).patch(update).delete(remove),
        )
        .route(
            "/api/v1/signing-domains/{id}/generate-key",
            post(generate_key),
        )
        .route("/api/v1/signing-domains/{id}/import-key", post(import_key))
        .route("/api/v1/signing-domains/{id}/dns-record", get(dns_record))
        .route("/api/v1/signing-domains/{id}/dns-check", get(dns_check))
        .route(
            "/api/v1/signing-domains/{id}/dkim-delegation",
            get(dkim_delegation),
        )
}

/// A malformed id cannot name any domain, so it is as not found as a foreign one.
pub(crate) fn domain_id(text: &str) -> Result<SigningDomainId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::not_found("signing domain"))
}

#[utoipa::path(get, path = "/api/v1/signing-domains", tag = "signing domains",
    security(("api_key" = [])), responses((status = 200, body = [SigningDomainView])))]
pub async fn list(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<Vec<SigningDomainView>>, ApiError> {
    let domains = state
        .service
        .signing_domains()
        .list_signing_domains(tenant)
        .await?;
    Ok(Json(
        domains.into_iter().map(SigningDomainView::from).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/signing-domains", tag = "signing domains",
    security(("api_key" = [])), request_body = NewSigningDomainRequest,
    responses((status = 201, body = SigningDomainView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<NewSigningDomainRequest>,
) -> Result<(StatusCode, Json<SigningDomainView>), ApiError> {
    let domain = state
        .service
        .signing_domains()
        .add_signing_domain(tenant, &request.domain, &request.selector)
        .await?;
    Ok((StatusCode::CREATED, Json(domain.into())))
}

#[utoipa::path(get, path = "/api/v1/signing-domains/{id}", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = SigningDomainView), (status = 404, body = ErrorBody)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SigningDomainView>, ApiError> {
    let domain = state
        .service
        .signing_domains()
        .signing_domain(tenant, domain_id(&id)?)
        .await?;
    Ok(Json(domain.into()))
}

#[utoipa::path(patch, path = "/api/v1/signing-domains/{id}", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    request_body = UpdateSigningDomainRequest,
    responses((status = 200, body = SigningDomainView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "activation without a key, of a domain the tenant has not proven, or \
                whose key's DNS record is not published (unless forced); a selector change \
                while the domain has a key; a duplicate"),
        (status = 422, body = ErrorBody, description = "an invalid selector")))]
pub async fn update(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateSigningDomainRequest>,
) -> Result<Json<SigningDomainView>, ApiError> {
    let domain = state
        .service
        .signing_domains()
        .edit_signing_domain(
            tenant,
            domain_id(&id)?,
            request.active,
            request.selector.as_deref(),
            if request.force == Some(true) {
                DnsGate::Force
            } else {
                DnsGate::RequireRecord
            },
        )
        .await?;
    Ok(Json(domain.into()))
}

#[utoipa::path(delete, path = "/api/v1/signing-domains/{id}", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "mail signed with one of the domain's keys still waits for delivery")))]
pub async fn remove(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .signing_domains()
        .delete_signing_domain(tenant, domain_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/signing-domains/{id}/generate-key", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    request_body(content = Option<GenerateKeyRequest>,
        description = "optional: `{\"algorithm\": \"ed25519\"}` for an Ed25519 key"),
    responses((status = 200, body = SigningDomainView,
        description = "a new key (RSA-2048 unless ed25519 is asked for), pending under a \
            selector of its own: the active key keeps signing until DNS carries the new key's \
            record; an active Ed25519 key adds a second signature (RFC 8463)"),
        (status = 404, body = ErrorBody)))]
pub async fn generate_key(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Option<ApiJson<GenerateKeyRequest>>,
) -> Result<Json<SigningDomainView>, ApiError> {
    let algorithm = request
        .map(|ApiJson(request)| request.algorithm)
        .unwrap_or_default();
    let domain = state
        .service
        .signing_domains()
        .generate_key_of(tenant, domain_id(&id)?, algorithm.into())
        .await?;
    Ok(Json(domain.into()))
}

#[utoipa::path(post, path = "/api/v1/signing-domains/{id}/import-key", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)), request_body = ImportKeyRequest,
    responses((status = 200, body = SigningDomainView,
            description = "the key added pending; the active key keeps signing"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the key was refused; nothing was stored")))]
pub async fn import_key(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ImportKeyRequest>,
) -> Result<Json<SigningDomainView>, ApiError> {
    let import = KeyImport {
        pem: &request.pem,
        password: request.password.as_deref(),
    };
    let domain = state
        .service
        .signing_domains()
        .import_key_of(tenant, domain_id(&id)?, request.algorithm.into(), import)
        .await?;
    Ok(Json(domain.into()))
}

#[utoipa::path(get, path = "/api/v1/signing-domains/{id}/dns-record", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = DnsRecordView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the domain has no key yet")))]
pub async fn dns_record(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DnsRecordView>, ApiError> {
    let record = state
        .service
        .signing_domains()
        .dns_record(tenant, domain_id(&id)?)
        .await?;
    Ok(Json(record.into()))
}

/// Checks the domain's DNS now: SPF for the platform's addresses, the DKIM record against the
/// domain's key, DMARC and MX, each finding with what was found, what was expected and the fix.
/// The keys' records are re-checked first and the outcome is recorded, as the schedule does: a
/// published pending key is promoted and the domain's DNS state follows.
#[utoipa::path(get, path = "/api/v1/signing-domains/{id}/dns-check", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = DnsReportView), (status = 404, body = ErrorBody)))]
pub async fn dns_check(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DnsReportView>, ApiError> {
    let report = state
        .service
        .signing_domains()
        .check_signing_domain_dns(tenant, domain_id(&id)?)
        .await?;
    Ok(Json(DnsReportView::from(&report)))
}

/// DKIM by CNAME delegation (SPEC S11.4): the CNAMEs to publish once instead of the DKIM TXT
/// records, after which the platform serves the key records and no rotation needs a DNS change.
/// 409 when the platform serves no DKIM zone or the domain's name is too long for one.
#[utoipa::path(get, path = "/api/v1/signing-domains/{id}/dkim-delegation", tag = "signing domains",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Vec<DelegationRecordView>), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "delegation is not offered")))]
pub async fn dkim_delegation(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<DelegationRecordView>>, ApiError> {
    let records = state
        .service
        .signing_domains()
        .dkim_delegation(tenant, domain_id(&id)?)
        .await?;
    Ok(Json(
        records
            .into_iter()
            .map(|record| DelegationRecordView::new(record.name, record.host, record.value))
            .collect(),
    ))
}
