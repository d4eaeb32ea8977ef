//! The records beside DKIM that the scheduled re-check watches (SPEC S11.2): the domain's SPF
//! (does it authorise the platform), its DMARC policy, and the MX and SPF of its return-path
//! domain when it has one. Each re-check records what it found per record; a definite change
//! of a record is an event, and a record that was once found and then disappears or changes
//! counts against the domain's DNS state like a DKIM record does. A record never found does not:
//! it is shown with its finding, but it cannot take away a standing it never gave. DKIM alone
//! decides `pending -> verified`, since it alone decides whether signing works.

use std::fmt;

use crate::{CheckOutcome, DnsState, Timestamp};

/// A record the re-check watches beside the DKIM records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// The domain's SPF record authorises the platform's sending addresses.
    Spf,
    /// The domain (or its organisational domain) has one DMARC record that parses.
    Dmarc,
    /// The return-path domain's MX points to the platform's inbound host.
    ReturnPathMx,
    /// The return-path domain's SPF record authorises the platform.
    ReturnPathSpf,
}

impl RecordKind {
    pub const ALL: [Self; 4] = [
        Self::Spf,
        Self::Dmarc,
        Self::ReturnPathMx,
        Self::ReturnPathSpf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spf => "spf",
            Self::Dmarc => "dmarc",
            Self::ReturnPathMx => "return_path_mx",
            Self::ReturnPathSpf => "return_path_spf",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The record's name in words.
    pub fn label(self) -> &'static str {
        match self {
            Self::Spf => "SPF",
            Self::Dmarc => "DMARC",
            Self::ReturnPathMx => "Return-path MX",
            Self::ReturnPathSpf => "Return-path SPF",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What one lookup of a record showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordOutcome {
    /// The record is there and as needed.
    Found,
    /// There is no such record.
    Missing,
    /// A record is there but not as needed (another value, several records, a syntax error).
    Wrong,
    /// DNS did not answer (SERVFAIL, timeout, refused): nothing is known.
    Temporary,
}

impl RecordOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::Missing => "missing",
            Self::Wrong => "wrong",
            Self::Temporary => "temporary_error",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Found, Self::Missing, Self::Wrong, Self::Temporary]
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }

    /// Whether the outcome is an answer from DNS rather than the lack of one.
    pub fn is_definite(self) -> bool {
        self != Self::Temporary
    }
}

impl fmt::Display for RecordOutcome {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What one re-check saw of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCheck {
    pub kind: RecordKind,
    /// The DNS name looked up.
    pub name: String,
    pub outcome: RecordOutcome,
    /// What was found, in words.
    pub detail: String,
}

/// A record's standing as stored after a re-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFinding {
    pub kind: RecordKind,
    pub name: String,
    /// What the last re-check saw, temporary errors included.
    pub outcome: RecordOutcome,
    /// What the last re-check saw, in words.
    pub detail: String,
    pub checked_at: Timestamp,
    /// The last definite outcome, which a temporary error does not replace; `None` until DNS
    /// has answered once.
    pub settled: Option<RecordOutcome>,
    /// When the settled outcome began.
    pub settled_since: Option<Timestamp>,
    /// The last re-check that found the record as needed; once set, the record is watched: its
    /// disappearance counts against the domain's DNS state.
    pub found_at: Option<Timestamp>,
}

impl RecordFinding {
    /// Whether the record was found as needed at some re-check, so its loss is a change.
    pub fn watched(&self) -> bool {
        self.found_at.is_some()
    }

    /// Whether the record is watched and DNS said definitely that it is gone or changed.
    pub fn is_lost(&self) -> bool {
        self.watched() && matches!(self.outcome, RecordOutcome::Missing | RecordOutcome::Wrong)
    }
}

/// A definite change of a record between two re-checks, reported as an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    pub kind: RecordKind,
    pub name: String,
    pub from: RecordOutcome,
    pub to: RecordOutcome,
    pub detail: String,
}

/// The findings after a re-check that saw `checks` at `now`, given the findings before it, and
/// the definite changes among them. A record seen for the first time has no change (there is
/// nothing it changed from); a temporary error keeps the settled outcome and is never a change;
/// a record no longer checked (the return path was removed) is dropped.
pub fn after_record_checks(
    before: &[RecordFinding],
    checks: Vec<RecordCheck>,
    now: Timestamp,
) -> (Vec<RecordFinding>, Vec<RecordChange>) {
    let mut findings = Vec::with_capacity(checks.len());
    let mut changes = Vec::new();
    for check in checks {
        let previous = before
            .iter()
            .find(|finding| finding.kind == check.kind && finding.name == check.name);
        let settled_before = previous.and_then(|finding| finding.settled);
        let (settled, settled_since) = match (check.outcome.is_definite(), settled_before) {
            (false, _) => (
                settled_before,
                previous.and_then(|finding| finding.settled_since),
            ),
            (true, Some(settled)) if settled == check.outcome => (
                Some(settled),
                previous.and_then(|finding| finding.settled_since),
            ),
            (true, _) => (Some(check.outcome), Some(now)),
        };
        if let (Some(from), true) = (settled_before, check.outcome.is_definite())
            && from != check.outcome
        {
            changes.push(RecordChange {
                kind: check.kind,
                name: check.name.clone(),
                from,
                to: check.outcome,
                detail: check.detail.clone(),
            });
        }
        let found_at = match check.outcome {
            RecordOutcome::Found => Some(now),
            _ => previous.and_then(|finding| finding.found_at),
        };
        findings.push(RecordFinding {
            kind: check.kind,
            name: check.name,
            outcome: check.outcome,
            detail: check.detail,
            checked_at: now,
            settled,
            settled_since,
            found_at,
        });
    }
    findings.sort_by_key(|finding| finding.kind);
    (findings, changes)
}

/// The outcome that moves the domain's DNS state, from the DKIM records' outcome and the
/// watched records after the re-check. A pending domain waits for DKIM alone; a definite DKIM
/// failure stands as it is; otherwise a watched record that is definitely lost makes the check a
/// failure (even beside an unanswered lookup), and an unanswered watched record makes it
/// temporary, so it proves nothing either way.
pub fn overall_outcome(
    state: DnsState,
    dkim: CheckOutcome,
    findings: &[RecordFinding],
) -> CheckOutcome {
    if state == DnsState::Pending || matches!(dkim, CheckOutcome::Missing | CheckOutcome::NoKey) {
        return dkim;
    }
    let watched = || findings.iter().filter(|finding| finding.watched());
    if watched().any(RecordFinding::is_lost) {
        return CheckOutcome::Missing;
    }
    if dkim == CheckOutcome::Temporary
        || watched().any(|finding| finding.outcome == RecordOutcome::Temporary)
    {
        return CheckOutcome::Temporary;
    }
    dkim
}

#[cfg(test)]
mod tests {
    use super::*;
    use RecordKind::*;
    use RecordOutcome::*;

    const T0: i64 = 1_000;
    const NOW: i64 = 5_000;

    fn check(kind: RecordKind, outcome: RecordOutcome) -> RecordCheck {
        RecordCheck {
            kind,
            name: "client.example".to_owned(),
            outcome,
            detail: format!("{kind} {outcome}"),
        }
    }

    /// A finding as stored before: last outcome, settled outcome, found at.
    fn before(
        kind: RecordKind,
        outcome: RecordOutcome,
        settled: Option<RecordOutcome>,
        found_at: Option<i64>,
    ) -> RecordFinding {
        RecordFinding {
            kind,
            name: "client.example".to_owned(),
            outcome,
            detail: String::new(),
            checked_at: Timestamp(T0),
            settled,
            settled_since: settled.map(|_| Timestamp(T0)),
            found_at: found_at.map(Timestamp),
        }
    }

    /// Settled outcome, settled since, found at, and the change from/to.
    type Expected = (
        Option<RecordOutcome>,
        Option<i64>,
        Option<i64>,
        Option<(RecordOutcome, RecordOutcome)>,
    );

    /// (previous finding, what the re-check saw) -> (settled, settled since, found at, change).
    #[track_caller]
    fn step(previous: Option<RecordFinding>, seen: RecordOutcome, expected: Expected) {
        let previous: Vec<RecordFinding> = previous.into_iter().collect();
        let (findings, changes) =
            after_record_checks(&previous, vec![check(Spf, seen)], Timestamp(NOW));
        let finding = &findings[0];
        assert_eq!(
            (finding.outcome, finding.checked_at),
            (seen, Timestamp(NOW))
        );
        let change = changes.first().map(|change| (change.from, change.to));
        assert_eq!(
            (
                finding.settled,
                finding.settled_since.map(|at| at.0),
                finding.found_at.map(|at| at.0),
                change
            ),
            expected,
            "{previous:?} then {seen:?}"
        );
    }

    #[test]
    fn findings_and_changes_of_one_record() {
        let (t0, now) = (Some(T0), Some(NOW));
        // The first look at a record: no change, whatever it shows.
        step(None, Found, (Some(Found), now, now, None));
        step(None, Missing, (Some(Missing), now, None, None));
        step(None, Wrong, (Some(Wrong), now, None, None));
        step(None, Temporary, (None, None, None, None));
        // Found before.
        let found = || Some(before(Spf, Found, Some(Found), t0));
        step(found(), Found, (Some(Found), t0, now, None));
        step(
            found(),
            Missing,
            (Some(Missing), now, t0, Some((Found, Missing))),
        );
        step(found(), Wrong, (Some(Wrong), now, t0, Some((Found, Wrong))));
        step(found(), Temporary, (Some(Found), t0, t0, None));
        // Lost before, after it had been found.
        let lost = || Some(before(Spf, Missing, Some(Missing), t0));
        step(lost(), Missing, (Some(Missing), t0, t0, None));
        step(
            lost(),
            Found,
            (Some(Found), now, now, Some((Missing, Found))),
        );
        step(
            lost(),
            Wrong,
            (Some(Wrong), now, t0, Some((Missing, Wrong))),
        );
        step(lost(), Temporary, (Some(Missing), t0, t0, None));
        // Never found, then published.
        let never = || Some(before(Spf, Missing, Some(Missing), None));
        step(
            never(),
            Found,
            (Some(Found), now, now, Some((Missing, Found))),
        );
        step(never(), Missing, (Some(Missing), t0, None, None));
        // A temporary error last time: the change is measured from the settled outcome.
        let unanswered = || Some(before(Spf, Temporary, Some(Found), t0));
        step(
            unanswered(),
            Missing,
            (Some(Missing), now, t0, Some((Found, Missing))),
        );
        step(unanswered(), Found, (Some(Found), t0, now, None));
        let never_answered = || Some(before(Spf, Temporary, None, None));
        step(never_answered(), Missing, (Some(Missing), now, None, None));
        step(never_answered(), Temporary, (None, None, None, None));
    }

    #[test]
    fn findings_follow_the_records_checked() {
        let previous = [
            before(ReturnPathMx, Found, Some(Found), Some(T0)),
            before(Spf, Found, Some(Found), Some(T0)),
        ];
        let (findings, changes) = after_record_checks(
            &previous,
            vec![check(Dmarc, Found), check(Spf, Found)],
            Timestamp(NOW),
        );
        let kinds: Vec<RecordKind> = findings.iter().map(|finding| finding.kind).collect();
        assert_eq!(kinds, [Spf, Dmarc], "the removed return path is dropped");
        assert!(changes.is_empty());
        // A record under another name (a new return-path domain) starts afresh.
        let mut renamed = check(ReturnPathMx, Missing);
        renamed.name = "bounces2.client.example".to_owned();
        let (findings, changes) = after_record_checks(&previous, vec![renamed], Timestamp(NOW));
        assert_eq!(findings[0].found_at, None);
        assert!(changes.is_empty());
    }

    /// (state, DKIM outcome, watched records' outcomes, unwatched ones) -> outcome.
    #[track_caller]
    fn overall(
        state: DnsState,
        dkim: CheckOutcome,
        watched: &[RecordOutcome],
        unwatched: &[RecordOutcome],
        expected: CheckOutcome,
    ) {
        let findings: Vec<RecordFinding> = watched
            .iter()
            .map(|outcome| before(Spf, *outcome, Some(Found), Some(T0)))
            .chain(
                unwatched
                    .iter()
                    .map(|outcome| before(Dmarc, *outcome, Some(*outcome), None)),
            )
            .collect();
        assert_eq!(
            overall_outcome(state, dkim, &findings),
            expected,
            "{state} {dkim:?} watched {watched:?} unwatched {unwatched:?}"
        );
    }

    #[test]
    fn what_moves_the_domain_state() {
        use CheckOutcome as C;
        use DnsState::*;
        // DKIM alone decides for a pending domain.
        overall(Pending, C::Found, &[Missing], &[], C::Found);
        overall(Pending, C::Missing, &[Found], &[], C::Missing);
        overall(Pending, C::Temporary, &[Found], &[], C::Temporary);
        // Everything as needed.
        overall(Verified, C::Found, &[Found], &[], C::Found);
        overall(
            Verified,
            C::Found,
            &[Found, Found],
            &[Missing, Wrong],
            C::Found,
        );
        // A watched record lost is a failure, even beside DKIM or DNS that did not answer.
        overall(Verified, C::Found, &[Missing], &[], C::Missing);
        overall(Verified, C::Found, &[Wrong], &[], C::Missing);
        overall(Verified, C::Found, &[Found, Missing], &[], C::Missing);
        overall(Verified, C::Temporary, &[Wrong], &[], C::Missing);
        overall(Warning, C::Found, &[Temporary, Missing], &[], C::Missing);
        overall(Failed, C::Found, &[Missing], &[], C::Missing);
        // No answer for a watched record proves nothing.
        overall(Verified, C::Found, &[Temporary], &[], C::Temporary);
        overall(Warning, C::Found, &[Temporary], &[], C::Temporary);
        overall(Verified, C::Temporary, &[Found], &[], C::Temporary);
        // Records never found do not count, whatever they show.
        overall(Verified, C::Found, &[], &[Missing], C::Found);
        overall(Verified, C::Found, &[], &[Temporary], C::Found);
        overall(Warning, C::Found, &[], &[Wrong], C::Found);
        // A definite DKIM failure stands.
        overall(Verified, C::Missing, &[Found], &[], C::Missing);
        overall(Verified, C::NoKey, &[Found], &[], C::NoKey);
        overall(Warning, C::Missing, &[Temporary], &[], C::Missing);
    }

    #[test]
    fn server_failures_never_fail_a_domain_through_its_records() {
        let policy = crate::DnsPolicy::default();
        let mut status = crate::DnsStatus::new(Timestamp(0));
        status.state = DnsState::Verified;
        let mut findings = vec![before(Spf, Found, Some(Found), Some(0))];
        for hour in 1..200 {
            let now = Timestamp(hour * 3600);
            findings = after_record_checks(&findings, vec![check(Spf, Temporary)], now).0;
            let outcome = overall_outcome(status.state, CheckOutcome::Found, &findings);
            status = crate::after_dns_check(&status, outcome, "SERVFAIL", now, &policy).0;
            assert_eq!(
                status.state,
                DnsState::Verified,
                "after {hour} h of SERVFAIL"
            );
        }
    }

    #[test]
    fn names_read_back() {
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::parse(kind.as_str()), Some(kind));
        }
        for outcome in [Found, Missing, Wrong, Temporary] {
            assert_eq!(RecordOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(RecordKind::parse("dkim"), None);
        assert_eq!(RecordOutcome::parse("ok"), None);
    }
}
