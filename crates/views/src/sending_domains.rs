//! A domain the tenant sends as, and the record that proves it.

use sealpost_domain::SendingDomain;
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A domain the tenant asked to send as, and whether DNS has proven it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SendingDomainView {
    /// The domain (IDN in A-label form).
    pub domain: String,
    /// `proven` once a verification found the proof; `pending` before.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(pending|proven)$"))]
    pub status: &'static str,
    /// How it was proven: `verification_record` or `dkim_record`.
    pub proof: Option<&'static str>,
    /// When it was proven (seconds since the Unix epoch).
    pub proven_at: Option<i64>,
    /// The TXT record that proves the domain (the DKIM record of a signing domain of it with
    /// its key proves it as well).
    pub verification_record: VerificationRecordView,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VerificationRecordView {
    /// `_sealpost.<domain>`
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(example = "TXT"))]
    pub r#type: &'static str,
    /// `sealpost-verification=<token>`
    pub value: String,
}

impl From<SendingDomain> for SendingDomainView {
    fn from(domain: SendingDomain) -> Self {
        Self {
            verification_record: VerificationRecordView {
                name: domain.record_name(),
                r#type: "TXT",
                value: domain.record_value(),
            },
            status: if domain.proof.is_some() {
                "proven"
            } else {
                "pending"
            },
            proof: domain.proof.map(|proof| proof.method.as_str()),
            proven_at: domain.proof.map(|proof| proof.proven_at.0),
            domain: domain.domain.as_str().to_owned(),
        }
    }
}
