//! The stored and shown form of a mail-tester report (SPEC S7.1, S7.2): what the database keeps
//! for a received test message, what the API returns and what `check-message --json` prints.
//! A report is a snapshot of DNS and the message at arrival, so it is kept as this document
//! rather than computed again when it is read.

use serde::{Deserialize, Serialize};

use crate::{Audience, Report, Severity, Status};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportDocument {
    /// Out of 10 for application mail (newsletter-only problems not counted).
    pub score: f32,
    /// Out of 10 with every problem counted, for mail sent in bulk.
    pub newsletter_score: f32,
    pub problems: Vec<ProblemDocument>,
    pub checks: Vec<CheckDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProblemDocument {
    /// error, warning or info.
    pub severity: String,
    pub code: String,
    pub found: String,
    pub fix: String,
    /// application (all mail) or newsletters (bulk mail only).
    pub matters_for: String,
    pub penalty: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckDocument {
    pub name: String,
    /// pass, warning, fail or info.
    pub status: String,
    pub found: String,
}

impl From<&Report> for ReportDocument {
    fn from(report: &Report) -> Self {
        Self {
            score: report.score,
            newsletter_score: report.newsletter_score,
            problems: report
                .problems
                .iter()
                .map(|problem| ProblemDocument {
                    severity: match problem.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Info => "info",
                    }
                    .to_owned(),
                    code: problem.code.to_owned(),
                    found: problem.found.clone(),
                    fix: problem.fix.clone(),
                    matters_for: match problem.matters_for {
                        Audience::Application => "application",
                        Audience::NewslettersOnly => "newsletters",
                    }
                    .to_owned(),
                    penalty: problem.penalty,
                })
                .collect(),
            checks: report
                .checks
                .iter()
                .map(|check| CheckDocument {
                    name: check.name.to_owned(),
                    status: match check.status {
                        Status::Pass => "pass",
                        Status::Warning => "warning",
                        Status::Fail => "fail",
                        Status::Info => "info",
                    }
                    .to_owned(),
                    found: check.found.clone(),
                })
                .collect(),
        }
    }
}
