//! A signing domain's standing in DNS over time (SPEC S11.2), in the manner of SES: `pending`
//! until its key records are found, then `verified`; a verified domain whose records disappear or
//! change is `warning` from the first failed re-check and `failed` only when the failures have
//! lasted a grace period. A temporary DNS error (SERVFAIL, timeout) is never evidence of a
//! failure. One pure function decides, and says when to look again.

use std::fmt;

use crate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsState {
    Pending,
    Verified,
    Warning,
    Failed,
}

impl DnsState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Warning => "warning",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "verified" => Some(Self::Verified),
            "warning" => Some(Self::Warning),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

impl fmt::Display for DnsState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What one check of a domain's key records found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckOutcome {
    /// Every record that must be published carries its key.
    Found,
    /// A record is missing or carries something else: a definite answer.
    Missing,
    /// DNS did not answer (SERVFAIL, timeout, refused): nothing is known.
    Temporary,
    /// The domain has no key whose record could be checked.
    NoKey,
}

impl CheckOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::Missing => "missing",
            Self::Temporary => "temporary_error",
            Self::NoKey => "no_key",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "found" => Some(Self::Found),
            "missing" => Some(Self::Missing),
            "temporary_error" => Some(Self::Temporary),
            "no_key" => Some(Self::NoKey),
            _ => None,
        }
    }
}

/// What DNS showed for one key's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordVerdict {
    CarriesKey,
    /// No record, another key, a revoked key, a syntax error: a definite answer.
    Wrong,
    /// No answer (SERVFAIL, timeout).
    Unanswered,
}

impl CheckOutcome {
    /// The outcome of a check of the records that must be published: any definite failure is
    /// `Missing`, even beside an unanswered lookup; only unanswered lookups are `Temporary`.
    pub fn of(required: &[RecordVerdict]) -> Self {
        if required.is_empty() {
            Self::NoKey
        } else if required.contains(&RecordVerdict::Wrong) {
            Self::Missing
        } else if required.contains(&RecordVerdict::Unanswered) {
            Self::Temporary
        } else {
            Self::Found
        }
    }
}

/// The last check: when, what it concluded, and its one-line summary for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheck {
    pub at: Timestamp,
    pub outcome: CheckOutcome,
    pub summary: String,
}

/// A domain's DNS standing as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsStatus {
    pub state: DnsState,
    /// When the state last changed.
    pub since: Timestamp,
    /// The first definite failure of the current run of failures (warning and failed only).
    pub failing_since: Option<Timestamp>,
    pub last_check: Option<LastCheck>,
    /// When the scheduled re-check is due.
    pub next_check_at: Timestamp,
}

impl DnsStatus {
    /// A new domain: pending, to be checked at once.
    pub fn new(now: Timestamp) -> Self {
        Self {
            state: DnsState::Pending,
            since: now,
            failing_since: None,
            last_check: None,
            next_check_at: now,
        }
    }
}

/// The grace period and how often each state is re-checked, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsPolicy {
    pub grace: i64,
    /// A pending domain is waiting for IT to publish: look often.
    pub pending_every: i64,
    pub verified_every: i64,
    /// A domain in warning or failed is watched more closely, to see it recover.
    pub failing_every: i64,
    /// After a temporary error, ask again soon.
    pub temporary_retry: i64,
}

impl Default for DnsPolicy {
    fn default() -> Self {
        Self {
            grace: 72 * 3600,
            pending_every: 5 * 60,
            verified_every: 6 * 3600,
            failing_every: 3600,
            temporary_retry: 5 * 60,
        }
    }
}

/// A change of state, reported as an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsChange {
    pub from: DnsState,
    pub to: DnsState,
}

/// The status after a check concluding `outcome` (summarised by `summary`) at `now`, and the
/// change of state if there is one.
pub fn after_check(
    status: &DnsStatus,
    outcome: CheckOutcome,
    summary: &str,
    now: Timestamp,
    policy: &DnsPolicy,
) -> (DnsStatus, Option<DnsChange>) {
    use CheckOutcome::*;
    use DnsState::*;
    let failing_since = status.failing_since.unwrap_or(now);
    let (state, failing_since) = match (status.state, outcome) {
        (_, Found) => (Verified, None),
        (Pending, Missing | Temporary | NoKey) => (Pending, None),
        (Verified, Missing | NoKey) => (Warning, Some(now)),
        (Verified, Temporary) => (Verified, None),
        (Warning, Missing | NoKey) if now.0 - failing_since.0 >= policy.grace => {
            (Failed, Some(failing_since))
        }
        (Warning | Failed, Missing | NoKey | Temporary) => (status.state, Some(failing_since)),
    };
    let every = match (state, outcome) {
        (_, Temporary) => policy.temporary_retry,
        (Pending, _) => policy.pending_every,
        (Verified, _) => policy.verified_every,
        (Warning | Failed, _) => policy.failing_every,
    };
    let change = (state != status.state).then_some(DnsChange {
        from: status.state,
        to: state,
    });
    let next = DnsStatus {
        state,
        since: if change.is_some() { now } else { status.since },
        failing_since,
        last_check: Some(LastCheck {
            at: now,
            outcome,
            summary: summary.to_owned(),
        }),
        next_check_at: Timestamp(now.0 + every),
    };
    (next, change)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CheckOutcome::*;
    use DnsState::*;

    const T0: i64 = 1_000_000;
    const HOUR: i64 = 3600;

    fn status(state: DnsState, failing_since: Option<i64>) -> DnsStatus {
        DnsStatus {
            state,
            since: Timestamp(T0),
            failing_since: failing_since.map(Timestamp),
            last_check: None,
            next_check_at: Timestamp(T0),
        }
    }

    /// (state before, failing since, outcome, hours after T0) -> (state after, failing since,
    /// hours until the next check).
    #[track_caller]
    fn check(
        before: (DnsState, Option<i64>),
        outcome: CheckOutcome,
        hours: i64,
        expected: (DnsState, Option<i64>, f64),
    ) {
        let now = Timestamp(T0 + hours * HOUR);
        let current = status(before.0, before.1);
        let (after, change) = after_check(&current, outcome, "s", now, &DnsPolicy::default());
        let next_in = (after.next_check_at.0 - now.0) as f64 / HOUR as f64;
        assert_eq!(
            (after.state, after.failing_since.map(|at| at.0), next_in),
            expected,
            "{before:?} + {outcome:?} at +{hours} h"
        );
        assert_eq!(change.is_some(), before.0 != after.state);
        let last = after.last_check.unwrap();
        assert_eq!((last.at, last.outcome), (now, outcome));
        assert_eq!(
            after.since,
            if change.is_some() { now } else { Timestamp(T0) }
        );
    }

    const FIVE_MIN: f64 = 5.0 / 60.0;

    #[test]
    fn transitions() {
        let t = |hours: i64| Some(T0 + hours * HOUR);
        check((Pending, None), Found, 1, (Verified, None, 6.0));
        check((Pending, None), Missing, 1, (Pending, None, FIVE_MIN));
        check((Pending, None), Temporary, 1, (Pending, None, FIVE_MIN));
        check((Pending, None), NoKey, 1, (Pending, None, FIVE_MIN));
        check((Verified, None), Found, 1, (Verified, None, 6.0));
        check((Verified, None), Missing, 1, (Warning, t(1), 1.0));
        check((Verified, None), NoKey, 1, (Warning, t(1), 1.0));
        check((Verified, None), Temporary, 1, (Verified, None, FIVE_MIN));
        check((Warning, t(0)), Missing, 71, (Warning, t(0), 1.0));
        check((Warning, t(0)), Missing, 72, (Failed, t(0), 1.0));
        check((Warning, t(0)), Temporary, 72, (Warning, t(0), FIVE_MIN));
        check((Warning, t(0)), Temporary, 500, (Warning, t(0), FIVE_MIN));
        check((Warning, t(0)), Found, 5, (Verified, None, 6.0));
        check((Warning, t(0)), NoKey, 80, (Failed, t(0), 1.0));
        check((Failed, t(0)), Missing, 100, (Failed, t(0), 1.0));
        check((Failed, t(0)), Temporary, 100, (Failed, t(0), FIVE_MIN));
        check((Failed, t(0)), Found, 100, (Verified, None, 6.0));
        // A warning stored without its start (never written so, but read defensively) starts now.
        check((Warning, None), Missing, 3, (Warning, t(3), 1.0));
    }

    #[test]
    fn a_run_of_server_failures_never_fails_a_domain() {
        let policy = DnsPolicy::default();
        for start in [Pending, Verified, Warning] {
            let mut current = status(start, (start == Warning).then_some(T0));
            for hour in 0..200 {
                let now = Timestamp(T0 + hour * HOUR);
                current = after_check(&current, Temporary, "SERVFAIL", now, &policy).0;
                assert_ne!(current.state, Failed, "{start} after {hour} h of SERVFAIL");
            }
            assert_eq!(current.state, start);
        }
    }

    #[test]
    fn outcomes_of_the_required_records() {
        use RecordVerdict::*;
        let cases: [(&[RecordVerdict], CheckOutcome); 7] = [
            (&[], NoKey),
            (&[CarriesKey], Found),
            (&[CarriesKey, CarriesKey], Found),
            (&[Wrong], Missing),
            (&[CarriesKey, Wrong], Missing),
            (&[Unanswered, Wrong], Missing),
            (&[CarriesKey, Unanswered], Temporary),
        ];
        for (verdicts, expected) in cases {
            assert_eq!(CheckOutcome::of(verdicts), expected, "{verdicts:?}");
        }
    }

    #[test]
    fn names_read_back() {
        for state in [Pending, Verified, Warning, Failed] {
            assert_eq!(DnsState::parse(state.as_str()), Some(state));
        }
        for outcome in [Found, Missing, Temporary, NoKey] {
            assert_eq!(CheckOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(DnsState::parse("ok"), None);
    }
}
