//! The support path of SPEC S5 over the API, the same call as the troubleshooting screen and
//! `sealpost troubleshoot`.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use sealpost_service::{DomainStanding, Troubleshooting};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::TenantAuth;
use crate::dns_views::DnsReportView;
use crate::error::ErrorBody;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/troubleshoot", get(troubleshoot))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TroubleshootQuery {
    /// The From address to check, such as `noreply@client.example`.
    #[param(
        pattern = "^[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$",
        max_length = 254
    )]
    pub sender: String,
    /// The envelope sender, when it differs from the From address; empty means the sender.
    #[param(
        pattern = "^(?:[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19})?$",
        max_length = 254
    )]
    pub mail_from: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TroubleshootView {
    pub sender: String,
    /// S5.1: the sender domain.
    pub sender_domain: String,
    pub mail_from: String,
    pub mail_from_domain: String,
    /// S5.2: the From domain among the tenant's signing domains.
    pub from_domain: StandingView,
    /// S5.2: the MAIL FROM domain among the tenant's signing domains.
    pub mail_from_domain_standing: StandingView,
    /// Whether the tenant signs this sender's mail.
    pub signed: bool,
    /// Why not, naming the domain at fault.
    pub unsigned_reason: Option<String>,
    /// S5.3: the DKIM record, SPF, DMARC (with alignment) and MX of the sender domain.
    pub dns: DnsReportView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StandingView {
    /// active (it signs), inactive (switched off or without a key) or unknown (not a signing
    /// domain of the tenant).
    pub status: &'static str,
    pub signing_domain_id: Option<String>,
    pub selector: Option<String>,
    pub has_key: bool,
}

impl From<&DomainStanding> for StandingView {
    fn from(standing: &DomainStanding) -> Self {
        let (status, domain) = match standing {
            DomainStanding::Active(domain) => ("active", Some(domain)),
            DomainStanding::Inactive(domain) => ("inactive", Some(domain)),
            DomainStanding::Unknown => ("unknown", None),
        };
        Self {
            status,
            signing_domain_id: domain.map(|domain| domain.id.to_string()),
            selector: domain.map(|domain| domain.selector.as_str().to_owned()),
            has_key: domain.is_some_and(|domain| domain.key.is_some()),
        }
    }
}

impl From<&Troubleshooting> for TroubleshootView {
    fn from(result: &Troubleshooting) -> Self {
        Self {
            sender: result.sender.clone(),
            sender_domain: result.sender_domain.to_string(),
            mail_from: result.mail_from.clone(),
            mail_from_domain: result.mail_from_domain.to_string(),
            from_domain: (&result.from_standing).into(),
            mail_from_domain_standing: (&result.mail_from_standing).into(),
            signed: result.unsigned_reason.is_none(),
            unsigned_reason: result.unsigned_reason.clone(),
            dns: (&result.dns).into(),
        }
    }
}

/// Checks one sender end to end: the sender domain, whether From and MAIL FROM domains are
/// active signing domains, and the domain's DNS (DKIM record, SPF, DMARC, MX) with fixes.
#[utoipa::path(get, path = "/api/v1/troubleshoot", tag = "troubleshooting",
    security(("api_key" = [])), params(TroubleshootQuery),
    responses((status = 200, body = TroubleshootView), (status = 422, body = ErrorBody)))]
pub async fn troubleshoot(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Query(query): Query<TroubleshootQuery>,
) -> Result<Json<TroubleshootView>, ApiError> {
    let result = state
        .service
        .troubleshoot(tenant, &query.sender, query.mail_from.as_deref())
        .await?;
    Ok(Json((&result).into()))
}
