//! The answer of the troubleshooter for one sender (SPEC S5).

use sealpost_service::{DomainStanding, Troubleshooting};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::dns_report::DnsReportView;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
            selector: domain.map(|domain| {
                domain
                    .current_key()
                    .map_or(&domain.selector, |key| &key.selector)
                    .as_str()
                    .to_owned()
            }),
            has_key: domain.is_some_and(|domain| domain.current_key().is_some()),
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
