//! What an evaluation found and how: the result with its reason and counters, and a trace of
//! every record and term evaluated with the DNS queries each cost.

use crate::spf::SpfResult;

/// The outcome of `check_host()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfOutcome {
    pub result: SpfResult,
    /// Why, in one sentence: the term that matched, the record that is missing, the limit that
    /// was exceeded.
    pub reason: String,
    /// The domain owner's explanation (`exp=`, section 6.2), only for `fail`.
    pub explanation: Option<String>,
    /// Terms that queried DNS (`include`, `a`, `mx`, `ptr`, `exists`, `redirect`), against the
    /// limit of 10.
    pub lookups: usize,
    /// Lookups that found nothing (NXDOMAIN or an empty answer), against the limit of 2.
    pub void_lookups: usize,
    pub trace: Vec<TraceStep>,
}

/// One record or term evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceStep {
    /// 0 for the checked domain's record, one more for each `include` or `redirect` followed.
    pub depth: usize,
    /// The domain whose record holds the term (or whose record was looked up).
    pub domain: String,
    pub kind: StepKind,
    /// The term as written, or the record's text for [`StepKind::Record`].
    pub text: String,
    /// Whether the step counted against the limit of 10 DNS-querying terms.
    pub counts_lookup: bool,
    /// The DNS queries the step made, in order.
    pub queries: Vec<DnsQuery>,
    pub outcome: StepOutcome,
}

/// What a step evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The lookup of a domain's SPF record.
    Record,
    /// A mechanism with its qualifier.
    Mechanism,
    /// The `redirect=` modifier, followed because no mechanism matched.
    Redirect,
    /// The `exp=` modifier, fetched because the result is `fail`.
    Explanation,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Record => "record",
            Self::Mechanism => "mechanism",
            Self::Redirect => "redirect",
            Self::Explanation => "explanation",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// The SPF record was found (its text is the step's text).
    Found,
    /// The domain has no SPF record.
    NotFound,
    /// The mechanism matched; its qualifier gives the result.
    Matched,
    /// The mechanism did not match; evaluation went on.
    NotMatched,
    /// The redirect was followed.
    Followed,
    /// The explanation text, expanded.
    Explained(String),
    /// The step was without effect, and why (an explanation that cannot be used).
    Ignored(String),
    /// The step ended the evaluation with `temperror` or `permerror`, and why.
    Error { result: SpfResult, message: String },
}

impl StepOutcome {
    /// A stable name for the outcome, for JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::NotFound => "not_found",
            Self::Matched => "match",
            Self::NotMatched => "no_match",
            Self::Followed => "followed",
            Self::Explained(_) => "explained",
            Self::Ignored(_) => "ignored",
            Self::Error { result, .. } => result.as_str(),
        }
    }

    /// The text that comes with the outcome, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Explained(text) | Self::Ignored(text) => Some(text),
            Self::Error { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// One DNS query and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    /// `TXT`, `A`, `AAAA`, `MX` or `PTR`.
    pub record_type: &'static str,
    pub name: String,
    pub answer: DnsAnswer,
    /// Whether this query counted as a void lookup.
    pub void: bool,
}

/// A DNS answer as the trace shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsAnswer {
    /// The records, as text (TXT strings joined, MX as `preference exchange`).
    Records(Vec<String>),
    NxDomain,
    NoData,
    /// A timeout, SERVFAIL or other failure.
    Temporary(String),
}
