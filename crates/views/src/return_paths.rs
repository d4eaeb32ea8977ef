//! A signing domain's return-path domain (SPEC S10.1) as it leaves Sealpost: the domain, whether
//! a check found its records, and each record to publish with what the last check saw.

use sealpost_domain::ReturnPath;
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// One record the return-path domain needs.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnPathRecordView {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(pattern = "^(MX|TXT)$"))]
    pub kind: &'static str,
    pub value: String,
    /// What a check just found: true when DNS has it as needed; absent when not checked now.
    pub found: Option<bool>,
    /// What is wrong with it, when the check found it missing or different.
    pub problem: Option<String>,
}

/// A return-path domain with its records.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnPathView {
    /// The signing domain (From domain) whose mail uses it.
    pub domain: String,
    pub return_path: String,
    /// Whether mail uses it now: a check found its records right.
    pub verified: bool,
    pub verified_at: Option<i64>,
    /// The records to publish; empty when the platform has no inbound host configured.
    pub records: Vec<ReturnPathRecordView>,
}

impl ReturnPathView {
    pub fn new(entry: &ReturnPath, records: Vec<ReturnPathRecordView>) -> Self {
        Self {
            domain: entry.domain.to_string(),
            return_path: entry.return_path.to_string(),
            verified: entry.verified_at.is_some(),
            verified_at: entry.verified_at.map(|at| at.0),
            records,
        }
    }
}
