//! The return-path domain of a signing domain (SPEC S10.1): the domain mail uses as MAIL FROM so
//! that bounces come back to Sealpost, such as `bounces.client.example` for `client.example`. It
//! lies below its signing domain, so SPF for it aligns (relaxed) with the From domain and a proof
//! of the signing domain covers it; for the signing decision it counts as its signing domain.

use crate::{DomainName, RecordCheck, RecordKind, RecordOutcome, TenantId, Timestamp};

/// A tenant's return-path domain for one of its signing domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPath {
    pub tenant_id: TenantId,
    /// The signing domain (the From domain) whose mail uses it.
    pub domain: DomainName,
    pub return_path: DomainName,
    pub created_at: Timestamp,
    /// When a DNS check last found its MX and SPF records right; delivery uses it only then.
    pub verified_at: Option<Timestamp>,
}

/// Why a domain cannot be a return path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnPathError {
    #[error(
        "{return_path} is not below {domain}: use a subdomain such as bounces.{domain}, so that \
         SPF aligns with the From domain"
    )]
    NotBelow {
        domain: DomainName,
        return_path: DomainName,
    },
}

impl ReturnPath {
    /// Checks that `return_path` lies strictly below `domain`.
    pub fn check(domain: &DomainName, return_path: &DomainName) -> Result<(), ReturnPathError> {
        let below = return_path
            .as_str()
            .strip_suffix(domain.as_str())
            .is_some_and(|label| label.ends_with('.') && label.len() > 1);
        match below {
            true => Ok(()),
            false => Err(ReturnPathError::NotBelow {
                domain: domain.clone(),
                return_path: return_path.clone(),
            }),
        }
    }

    /// Whether a re-check's answers let delivery use the return path: `Some(false)` when DNS
    /// says its MX or SPF is missing or wrong (its bounces would be lost, so the platform's own
    /// bounce address takes over at once, with no grace period), `Some(true)` when both are
    /// found, and `None` when the re-check did not look or DNS did not answer, which changes
    /// nothing.
    pub fn usable_after(checks: &[RecordCheck]) -> Option<bool> {
        let outcomes: Vec<RecordOutcome> = checks
            .iter()
            .filter(|check| {
                matches!(
                    check.kind,
                    RecordKind::ReturnPathMx | RecordKind::ReturnPathSpf
                )
            })
            .map(|check| check.outcome)
            .collect();
        if outcomes.is_empty() {
            return None;
        }
        if outcomes
            .iter()
            .any(|outcome| matches!(outcome, RecordOutcome::Missing | RecordOutcome::Wrong))
        {
            return Some(false);
        }
        outcomes
            .iter()
            .all(|outcome| *outcome == RecordOutcome::Found)
            .then_some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(domain: &str, return_path: &str, ok: bool) {
        let domain = DomainName::parse(domain).unwrap();
        let return_path = DomainName::parse(return_path).unwrap();
        assert_eq!(ReturnPath::check(&domain, &return_path).is_ok(), ok);
    }

    #[test]
    fn a_return_path_lies_below_its_signing_domain() {
        check("client.example", "bounces.client.example", true);
        check("client.example", "a.b.client.example", true);
        check("client.example", "client.example", false);
        check("client.example", "otherclient.example", false);
        check("client.example", "bounces.other.example", false);
    }

    #[test]
    fn a_real_answer_decides_whether_the_return_path_is_used_and_silence_does_not() {
        use RecordKind::*;
        use RecordOutcome::*;
        let usable = |outcomes: &[(RecordKind, RecordOutcome)]| {
            let checks: Vec<RecordCheck> = outcomes
                .iter()
                .map(|(kind, outcome)| RecordCheck {
                    kind: *kind,
                    name: "bounces.client.example".into(),
                    outcome: *outcome,
                    detail: String::new(),
                })
                .collect();
            ReturnPath::usable_after(&checks)
        };
        assert_eq!(usable(&[]), None);
        assert_eq!(usable(&[(Spf, Missing), (Dmarc, Wrong)]), None);
        let both = |mx, spf| usable(&[(Spf, Found), (ReturnPathMx, mx), (ReturnPathSpf, spf)]);
        assert_eq!(both(Found, Found), Some(true));
        assert_eq!(both(Wrong, Found), Some(false));
        assert_eq!(both(Found, Missing), Some(false));
        assert_eq!(both(Missing, Temporary), Some(false));
        assert_eq!(both(Temporary, Found), None);
        assert_eq!(both(Temporary, Temporary), None);
    }
}
