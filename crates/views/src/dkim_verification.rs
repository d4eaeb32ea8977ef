//! A DKIM verification report (SPEC S5.5), the same for the API and the CLI's `--json` output
//! so that scripts read one format.

use sealpost_dkim::{Report, SignatureReport};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VerificationView {
    /// `none` (no signature), `pass` (every signature passed), otherwise the result of the
    /// first signature that did not pass.
    pub result: &'static str,
    pub summary: String,
    pub signatures: Vec<SignatureView>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignatureView {
    pub d: Option<String>,
    pub s: Option<String>,
    pub a: Option<String>,
    /// pass, fail, neutral, policy, temperror or permerror.
    pub result: &'static str,
    /// A stable code, such as `body_modified` or `key_not_found`.
    pub cause: &'static str,
    /// One sentence saying what the cause means.
    pub cause_text: &'static str,
    /// The specifics of this signature.
    pub detail: String,
    pub warnings: Vec<WarningView>,
    /// The signature's tags as written (without `b=` and `bh=`): c, h, t, x, l, i and the rest.
    pub tags: Vec<TagView>,
    /// The key record found in DNS, if any.
    pub key: Option<KeyView>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WarningView {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TagView {
    pub name: String,
    pub value: String,
}

/// Named apart from the signing domain's `KeyView`, which the document also lists.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DkimKeyView))]
pub struct KeyView {
    /// The DNS name the key was fetched from.
    pub name: String,
    pub record: String,
    pub key_type: String,
    pub bits: Option<u32>,
    /// `t=y` is set.
    pub testing: bool,
    /// SHA-256 of the public key, first 16 bytes in hex.
    pub fingerprint: Option<String>,
}

impl From<&Report> for VerificationView {
    fn from(report: &Report) -> Self {
        Self {
            result: report.result().as_str(),
            summary: report.summary(),
            signatures: report.signatures.iter().map(SignatureView::from).collect(),
        }
    }
}

impl From<&SignatureReport> for SignatureView {
    fn from(signature: &SignatureReport) -> Self {
        Self {
            d: signature.domain.clone(),
            s: signature.selector.clone(),
            a: signature.algorithm.clone(),
            result: signature.result.as_str(),
            cause: signature.cause.code(),
            cause_text: signature.cause.sentence(),
            detail: signature.detail.to_string(),
            warnings: signature
                .warnings
                .iter()
                .map(|warning| WarningView {
                    code: warning.code,
                    message: warning.message.clone(),
                })
                .collect(),
            tags: signature
                .tags
                .iter()
                .map(|(name, value)| TagView {
                    name: name.to_owned(),
                    value: value.to_owned(),
                })
                .collect(),
            key: signature.key.as_ref().map(|key| KeyView {
                name: key.name.clone(),
                record: key.record.to_string(),
                key_type: key.key_type.to_string(),
                bits: key.bits,
                testing: key.testing,
                fingerprint: key.fingerprint.as_deref().map(str::to_owned),
            }),
        }
    }
}
