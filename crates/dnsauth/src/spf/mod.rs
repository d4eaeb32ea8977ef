//! SPF (RFC 7208): `check_host()` evaluated with a trace, and the tenant check of SPEC S2.
//!
//! The protocol logic takes its DNS through [`SpfDns`] and the time as an argument, so it runs
//! against the resolver in production and against anything else in tests. [`check_host`]
//! evaluates every mechanism and modifier with the limits of RFC 7208 section 4.6.4 (10 terms that
//! query DNS, 10 MX and PTR names per lookup, 2 void lookups) and records each term it evaluates.
//! [`check_tenant_spf`] evaluates a tenant domain's record for each platform address and turns
//! what it finds into [`Finding`](crate::finding::Finding)s with the minimal edit that adds the
//! platform's include.

mod dns;
mod edit;
mod eval;
mod macros;
mod memo;
mod network;
mod parse;
mod request;
mod tenant;
mod trace;

pub use dns::SpfDns;
pub use edit::{platform_record, split_strings};
pub use eval::check_host;
pub use network::{Network, NetworkError};
pub use request::SpfRequest;
pub use tenant::{AddressCheck, SuggestedRecord, TenantSpfReport, check_tenant_spf};
pub use trace::{DnsAnswer, DnsQuery, SpfOutcome, StepKind, StepOutcome, TraceStep};

/// The result of `check_host()` (RFC 7208 section 2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpfResult {
    /// No SPF record, or no usable domain to look one up for.
    None,
    /// The domain owner says nothing about the address (`?`, or no term matched).
    Neutral,
    /// The address is authorised.
    Pass,
    /// The address is not authorised.
    Fail,
    /// The address is probably not authorised (`~`).
    SoftFail,
    /// A transient DNS error; a later check may succeed.
    TempError,
    /// The published records cannot be interpreted; the domain owner must fix them.
    PermError,
}

impl SpfResult {
    /// The result's name as RFC 7208 and `Received-SPF` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Neutral => "neutral",
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::SoftFail => "softfail",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }
}

impl std::fmt::Display for SpfResult {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}
