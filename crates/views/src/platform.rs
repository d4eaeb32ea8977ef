//! The platform's health (`sealpost doctor`): the API's JSON, the CLI's `--json` output and the
//! operator's health page.

use sealpost_dnsauth::doctor::Check;
use sealpost_service::platform::PlatformHealth;
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PlatformHealthView {
    /// `green` (nothing to fix), `to_fix` (a check failed) or `unchecked` (nothing failed, but a
    /// check could not be made).
    pub verdict: &'static str,
    pub checks: Vec<CheckView>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckView {
    /// reverse_dns, spf_include, platform_dkim, outbound_smtp, tls_certificate, database or
    /// master_key.
    pub check: &'static str,
    /// pass, warn, skipped, unknown (could not check) or fail.
    pub status: &'static str,
    /// What was checked: an address, a DNS name, a file.
    pub subject: String,
    pub found: String,
    /// What to change, unless the check passed.
    pub fix: Option<String>,
}

impl From<&Check> for CheckView {
    fn from(check: &Check) -> Self {
        Self {
            check: check.kind.as_str(),
            status: check.status.as_str(),
            subject: check.subject.clone(),
            found: check.found.clone(),
            fix: check.fix.clone(),
        }
    }
}

impl From<&PlatformHealth> for PlatformHealthView {
    fn from(health: &PlatformHealth) -> Self {
        Self {
            verdict: health.verdict.as_str(),
            checks: health.checks.iter().map(CheckView::from).collect(),
        }
    }
}
