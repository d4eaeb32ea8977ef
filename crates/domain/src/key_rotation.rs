//! Automatic DKIM key rotation (SPEC S11.1): a tenant may have every active key replaced after a
//! period it chooses. When a key of a domain has signed that long and no newer key of its
//! algorithm waits, a new key is added pending, exactly as a person's "generate key" adds one;
//! promotion and retirement then follow DNS as for any other key.

use std::fmt;

use crate::{KeyAlgorithm, KeyState, SigningDomain, Timestamp};

const DAY: i64 = 86_400;

/// How often a tenant's keys are replaced: a whole number of days from
/// [`RotationPeriod::MIN_DAYS`] to [`RotationPeriod::MAX_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RotationPeriod(u16);

impl RotationPeriod {
    /// Below a month a rotation could start again before the last one's retiring key has
    /// drained and retired (seven days after its last message), which on a delegated domain
    /// would find both selectors taken.
    pub const MIN_DAYS: u16 = 30;
    /// Two years: a key older than that has outlived any rotation policy worth the name.
    pub const MAX_DAYS: u16 = 730;

    /// Reads a number of days; anything outside the range is refused with a sentence.
    pub fn from_days(days: i64) -> Result<Self, RotationPeriodError> {
        u16::try_from(days)
            .ok()
            .filter(|days| (Self::MIN_DAYS..=Self::MAX_DAYS).contains(days))
            .map(Self)
            .ok_or(RotationPeriodError(days))
    }

    pub fn days(self) -> u16 {
        self.0
    }

    pub fn seconds(self) -> i64 {
        i64::from(self.0) * DAY
    }
}

impl fmt::Display for RotationPeriod {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "every {} days", self.0)
    }
}

/// A number of days outside the allowed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPeriodError(pub i64);

impl fmt::Display for RotationPeriodError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "A rotation period of {} days is not allowed: choose a whole number of days from {} \
             to {}",
            self.0,
            RotationPeriod::MIN_DAYS,
            RotationPeriod::MAX_DAYS
        )
    }
}

impl std::error::Error for RotationPeriodError {}

/// A tenant's choice: rotate automatically, or only when a person generates a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyRotation {
    #[default]
    Off,
    Every(RotationPeriod),
}

impl KeyRotation {
    pub fn period(self) -> Option<RotationPeriod> {
        match self {
            Self::Off => None,
            Self::Every(period) => Some(period),
        }
    }
}

/// When the active key of one algorithm is due to be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationDue {
    pub algorithm: KeyAlgorithm,
    pub at: Timestamp,
}

/// When each active key of `domain` is due for rotation: `period` after it started signing, not
/// after it was made, so a key that waited long for its record still signs a whole period.
/// Only the keys of an active domain rotate, and none whose algorithm already has a key waiting.
pub fn rotation_schedule(domain: &SigningDomain, period: RotationPeriod) -> Vec<RotationDue> {
    if !domain.active {
        return Vec::new();
    }
    [KeyAlgorithm::Rsa, KeyAlgorithm::Ed25519]
        .into_iter()
        .filter(|algorithm| domain.pending_key_of(*algorithm).is_none())
        .filter_map(|algorithm| {
            let active = domain.active_key_of(algorithm)?;
            Some(RotationDue {
                algorithm,
                at: Timestamp(active.state_since.0 + period.seconds()),
            })
        })
        .collect()
}

/// The algorithms whose active key is due for rotation at `now`. One rotation at a time: while
/// the key an earlier rotation replaced is still retiring, the next waits (a delegated domain
/// would have no free selector, and the tenant would have two records to keep at once).
pub fn rotations_due(
    domain: &SigningDomain,
    period: RotationPeriod,
    now: Timestamp,
) -> Vec<KeyAlgorithm> {
    rotation_schedule(domain, period)
        .into_iter()
        .filter(|due| due.at <= now)
        .filter(|due| {
            !domain
                .keys
                .iter()
                .any(|key| key.algorithm == due.algorithm && key.state == KeyState::Retiring)
        })
        .map(|due| due.algorithm)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        DnsStatus, DomainName, KeyId, KeyOrigin, Selector, SigningDomainId, SigningKey, TenantId,
        Uuid,
    };

    #[track_caller]
    fn check_days(days: i64, accepted: bool) {
        assert_eq!(RotationPeriod::from_days(days).is_ok(), accepted, "{days}");
    }

    #[test]
    fn periods_from_a_month_to_two_years() {
        check_days(30, true);
        check_days(180, true);
        check_days(730, true);
        check_days(29, false);
        check_days(731, false);
        check_days(0, false);
        check_days(-180, false);
        check_days(i64::from(u16::MAX) + 180, false);
        assert_eq!(
            RotationPeriod::from_days(7).unwrap_err().to_string(),
            "A rotation period of 7 days is not allowed: choose a whole number of days from 30 \
             to 730"
        );
    }

    fn key(selector: &str, algorithm: KeyAlgorithm, state: KeyState, since: i64) -> SigningKey {
        SigningKey {
            id: KeyId::from(Uuid::from_u128(since as u128 + selector.len() as u128)),
            selector: Selector::parse(selector).unwrap(),
            state,
            state_since: Timestamp(since),
            forced: false,
            algorithm,
            public_key_der: Vec::new(),
            bits: 2048,
            origin: KeyOrigin::Generated,
            created_at: Timestamp(since),
        }
    }

    fn domain(active: bool, keys: Vec<SigningKey>) -> SigningDomain {
        SigningDomain {
            id: SigningDomainId::from(Uuid::from_u128(1)),
            tenant_id: TenantId::from(Uuid::from_u128(2)),
            domain: DomainName::parse("client.test").unwrap(),
            selector: Selector::parse("workplace").unwrap(),
            active,
            keys,
            dns: DnsStatus::new(Timestamp(0)),
            records: Vec::new(),
            version: 1,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn a_key_is_due_a_period_after_it_started_signing() {
        let period = RotationPeriod::from_days(180).unwrap();
        let rsa = key("workplace", KeyAlgorithm::Rsa, KeyState::Active, 1_000);
        let ed = key(
            "workplace-ed",
            KeyAlgorithm::Ed25519,
            KeyState::Active,
            5_000,
        );
        let both = domain(true, vec![rsa.clone(), ed.clone()]);
        assert_eq!(
            rotation_schedule(&both, period),
            [
                RotationDue {
                    algorithm: KeyAlgorithm::Rsa,
                    at: Timestamp(1_000 + 180 * DAY)
                },
                RotationDue {
                    algorithm: KeyAlgorithm::Ed25519,
                    at: Timestamp(5_000 + 180 * DAY)
                },
            ]
        );
        assert!(rotations_due(&both, period, Timestamp(999 + 180 * DAY)).is_empty());
        assert_eq!(
            rotations_due(&both, period, Timestamp(1_000 + 180 * DAY)),
            [KeyAlgorithm::Rsa]
        );
        assert_eq!(
            rotations_due(&both, period, Timestamp(5_000 + 180 * DAY)),
            [KeyAlgorithm::Rsa, KeyAlgorithm::Ed25519]
        );
    }

    #[test]
    fn a_waiting_or_retiring_key_or_an_inactive_domain_stops_a_rotation() {
        let period = RotationPeriod::from_days(30).unwrap();
        let later = Timestamp(400 * DAY);
        let rsa = key("workplace", KeyAlgorithm::Rsa, KeyState::Active, 0);
        let waiting = key("workplace2", KeyAlgorithm::Rsa, KeyState::Pending, 0);
        let ed = key("workplace-ed", KeyAlgorithm::Ed25519, KeyState::Active, 0);
        assert_eq!(
            rotations_due(&domain(true, vec![rsa.clone(), waiting, ed]), period, later),
            [KeyAlgorithm::Ed25519]
        );
        assert!(rotations_due(&domain(false, vec![rsa.clone()]), period, later).is_empty());
        let retiring = key("workplace0", KeyAlgorithm::Rsa, KeyState::Retiring, 0);
        assert!(rotations_due(&domain(true, vec![rsa, retiring]), period, later).is_empty());
        assert!(rotations_due(&domain(true, Vec::new()), period, later).is_empty());
    }
}
