//! The JSON shape of a mail-tester report (SPEC S7.1, S7.2), shared by the API (when the
//! checker's pages come) and the CLI's `check-message --json`.

use sealpost_checker::{Audience, Report, Severity, Status};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckerReportView {
    /// Out of 10 for application mail (newsletter-only problems not counted).
    pub score: f32,
    /// Out of 10 with every problem counted, for mail sent in bulk.
    pub newsletter_score: f32,
    pub problems: Vec<ProblemView>,
    pub checks: Vec<CheckView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemView {
    /// error, warning or info.
    pub severity: &'static str,
    pub code: &'static str,
    pub found: String,
    pub fix: String,
    /// application (all mail) or newsletters (bulk mail only).
    pub matters_for: &'static str,
    pub penalty: f32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    pub name: &'static str,
    /// pass, warning, fail or info.
    pub status: &'static str,
    pub found: String,
}

impl From<&Report> for CheckerReportView {
    fn from(report: &Report) -> Self {
        Self {
            score: report.score,
            newsletter_score: report.newsletter_score,
            problems: report
                .problems
                .iter()
                .map(|problem| ProblemView {
                    severity: match problem.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Info => "info",
                    },
                    code: problem.code,
                    found: problem.found.clone(),
                    fix: problem.fix.clone(),
                    matters_for: match problem.matters_for {
                        Audience::Application => "application",
                        Audience::NewslettersOnly => "newsletters",
                    },
                    penalty: problem.penalty,
                })
                .collect(),
            checks: report
                .checks
                .iter()
                .map(|check| CheckView {
                    name: check.name,
                    status: match check.status {
                        Status::Pass => "pass",
                        Status::Warning => "warning",
                        Status::Fail => "fail",
                        Status::Info => "info",
                    },
                    found: check.found.clone(),
                })
                .collect(),
        }
    }
}
