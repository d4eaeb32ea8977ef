//! The analysis core of Sealpost's built-in mail tester (SPEC S7.1, S7.2): given a message as it
//! arrived and its SMTP envelope, it checks SPF for the connecting address, every DKIM signature,
//! DMARC alignment, reverse DNS, the required headers and the MIME structure and content, and
//! scores the message out of 10 with a list of problems, each with its fix and whether it
//! matters for all application mail or only for newsletters.
//!
//! Every DNS lookup goes through the given resolver (so `--nameserver` reaches it), and the time
//! is an argument. The listener that receives test mail and the storage of reports live
//! elsewhere.

use std::net::IpAddr;

use sealpost_dns::Resolver;
use sealpost_domain::Timestamp;

mod auth;
mod content;
pub mod document;
mod headers;
mod html;
mod rules;
mod spam_filter;

pub use spam_filter::SpamVerdict;

use rules::Rule;

/// A message as the checker's SMTP listener received it.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The message, header and body, any line endings.
    pub message: &'a [u8],
    /// The address of the SMTP client that delivered it.
    pub client_ip: IpAddr,
    /// The name the client gave in HELO/EHLO.
    pub helo: &'a str,
    /// The MAIL FROM reverse-path, with or without angle brackets; empty for bounces.
    pub mail_from: &'a str,
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Mail is likely refused or sent to spam.
    Error,
    /// Filters count it against the message.
    Warning,
    /// Worth knowing; costs nothing for application mail.
    Info,
}

/// Which mail a problem matters for (SPEC S7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// All mail, including the application's one-to-one messages.
    Application,
    /// Only mail sent in bulk, such as newsletters.
    NewslettersOnly,
}

/// One thing to fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub severity: Severity,
    /// A stable code such as `dkim_fail`; never changes meaning.
    pub code: &'static str,
    /// What the checker saw.
    pub found: String,
    /// What to do about it, as one concrete sentence or two.
    pub fix: String,
    pub matters_for: Audience,
    /// What it costs out of 10.
    pub penalty: f32,
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pass,
    Warning,
    Fail,
    /// Nothing to judge, only to show (such as the hosts the links point to).
    Info,
}

/// One check that ran, passed or not, so the report shows what was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked: `spf`, `spf_helo`, `dkim` (once per signature), `dmarc`, `ptr`,
    /// `headers`, `mime`, `images`, `links`, `size`, `list_unsubscribe`.
    pub name: &'static str,
    pub status: Status,
    pub found: String,
}

/// The result of analysing one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Out of 10, for application mail: problems that matter only for newsletters are not
    /// counted.
    pub score: f32,
    /// Out of 10 with every problem counted, for mail sent in bulk.
    pub newsletter_score: f32,
    pub problems: Vec<Problem>,
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether a problem with this code was reported.
    pub fn has(&self, code: &str) -> bool {
        self.problems.iter().any(|problem| problem.code == code)
    }
}

/// What the analysers collect.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    problems: Vec<Problem>,
    checks: Vec<Check>,
}

impl Findings {
    pub(crate) fn problem(&mut self, rule: Rule, found: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem {
            severity: rule.severity,
            code: rule.code,
            found: found.into(),
            fix: fix.into(),
            matters_for: rule.matters_for,
            penalty: rule.penalty,
        });
    }

    pub(crate) fn check(&mut self, name: &'static str, status: Status, found: impl Into<String>) {
        self.checks.push(Check {
            name,
            status,
            found: found.into(),
        });
    }
}

/// Analyses a received message: authentication against DNS, then headers and content.
pub async fn analyse(resolver: &Resolver, received: &Received<'_>, now: Timestamp) -> Report {
    let mut findings = Findings::default();
    let message = sealpost_dkim::normalize_line_endings(received.message);
    let author = headers::check(&message, &mut findings);
    auth::check(resolver, received, author.as_deref(), now, &mut findings).await;
    content::check(received.message, &mut findings);
    let score = |counted: fn(&Problem) -> bool| {
        let lost: f32 = findings
            .problems
            .iter()
            .filter(|problem| counted(problem))
            .map(|problem| problem.penalty)
            .sum();
        (10.0 - lost).max(0.0)
    };
    Report {
        score: score(|problem| problem.matters_for == Audience::Application),
        newsletter_score: score(|_| true),
        problems: findings.problems,
        checks: findings.checks,
    }
}
