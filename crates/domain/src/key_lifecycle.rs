//! A signing key's life (SPEC S11.1): `pending` (its record handed to IT, not used) -> `active`
//! (signs) -> `retiring` (no longer signs, its record must stay published while mail signed with
//! it may still be verified) -> `retired` (safe to remove from DNS). One transition function for a
//! key and one for a promotion, so the rules live here and nowhere else.

use std::fmt;

use crate::{KeyId, Selector, SigningKey, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyState {
    Pending,
    Active,
    Retiring,
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Retiring => "retiring",
            Self::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "retiring" => Some(Self::Retiring),
            "retired" => Some(Self::Retired),
            _ => None,
        }
    }

    /// Whether receivers may still look the key's record up: a pending key's record is being
    /// published, an active key signs, and a retiring key's signatures are still in flight.
    pub fn record_needed(self) -> bool {
        !matches!(self, Self::Retired)
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How long a retiring key's record stays published after the last message signed with it has
/// been delivered or has expired: receivers cache records and some verify again later (a
/// forwarded message, a mailbox that re-checks), so removal waits this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    pub retire_margin_seconds: i64,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            retire_margin_seconds: 7 * 86_400,
        }
    }
}

/// What happens to a key: the input of [`next_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEvent {
    /// The DNS check found the key's record carrying exactly this key.
    RecordCarriesKey,
    /// An operator promoted the key without DNS carrying it (recorded with a warning).
    ForcedPromotion,
    /// Another key of the domain was promoted in its place.
    Superseded,
    /// A newer pending key was promoted first: this one will never sign.
    Overtaken,
    /// The queue's account of the messages signed with the key: how many still wait for
    /// delivery, and when the last of the others was delivered or expired.
    Drain {
        unfinished: u64,
        last_finished_at: Option<Timestamp>,
    },
}

/// Why a key cannot take an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Only a pending key can be promoted.
    NotPending { selector: Selector, state: KeyState },
    /// The key named is not one of the domain's.
    UnknownKey,
}

impl fmt::Display for KeyRefusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPending { selector, state } => write!(
                formatter,
                "the key under selector {selector} is {state}; only a pending key can be promoted"
            ),
            Self::UnknownKey => formatter.write_str("the domain has no such key"),
        }
    }
}

/// The next state of a key in `state` since `since` when `event` happens at `now`: `Some` for a
/// change, `None` when the key stays as it is.
pub fn next_state(
    state: KeyState,
    since: Timestamp,
    event: KeyEvent,
    now: Timestamp,
    policy: &KeyPolicy,
) -> Option<KeyState> {
    use KeyEvent::*;
    use KeyState::*;
    match (state, event) {
        (Pending, RecordCarriesKey | ForcedPromotion) => Some(Active),
        (Active, Superseded) => Some(Retiring),
        (Pending, Overtaken) => Some(Retired),
        (
            Retiring,
            Drain {
                unfinished: 0,
                last_finished_at,
            },
        ) => {
            let drained_at = last_finished_at.map_or(since, |last| last.max(since));
            (now.0 >= drained_at.0 + policy.retire_margin_seconds).then_some(Retired)
        }
        (Pending | Active | Retiring | Retired, _) => None,
    }
}

/// One key's change of state, as committed and reported (an event for webhooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    pub key: KeyId,
    pub selector: Selector,
    pub from: KeyState,
    pub to: KeyState,
    /// A promotion without DNS carrying the key.
    pub forced: bool,
}

/// How a pending key is promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promotion {
    /// The DNS check found its record carrying the key.
    Published,
    /// An operator forced it.
    Forced,
}

/// Promotes the pending key `candidate` of a domain holding `keys`: it becomes active and the
/// key of its algorithm active until now (if any) starts retiring, in one change, so exactly one
/// key of each algorithm signs at any moment. Pending keys of its algorithm older than the
/// candidate will never sign: they retire at once. Keys of the other algorithm are untouched.
pub fn promote(
    keys: &[SigningKey],
    candidate: KeyId,
    how: Promotion,
    now: Timestamp,
    policy: &KeyPolicy,
) -> Result<Vec<KeyChange>, KeyRefusal> {
    let key = keys
        .iter()
        .find(|key| key.id == candidate)
        .ok_or(KeyRefusal::UnknownKey)?;
    let event = match how {
        Promotion::Published => KeyEvent::RecordCarriesKey,
        Promotion::Forced => KeyEvent::ForcedPromotion,
    };
    let promoted = next_state(key.state, key.state_since, event, now, policy).ok_or_else(|| {
        KeyRefusal::NotPending {
            selector: key.selector.clone(),
            state: key.state,
        }
    })?;
    let mut changes = Vec::new();
    for current in keys
        .iter()
        .filter(|other| other.id != candidate && other.algorithm == key.algorithm)
    {
        let event = match current.state {
            KeyState::Pending if current.created_at < key.created_at => KeyEvent::Overtaken,
            _ => KeyEvent::Superseded,
        };
        if let Some(to) = next_state(current.state, current.state_since, event, now, policy) {
            changes.push(KeyChange {
                key: current.id,
                selector: current.selector.clone(),
                from: current.state,
                to,
                forced: false,
            });
        }
    }
    changes.push(KeyChange {
        key: key.id,
        selector: key.selector.clone(),
        from: key.state,
        to: promoted,
        forced: how == Promotion::Forced,
    });
    Ok(changes)
}

/// The selector for a new key of a domain whose first selector is `base`: `base` itself while
/// no key has used it, otherwise `base` followed by the first number from 2 that no key of the
/// domain has used. A rotation needs a new name, because a record cannot carry the old and the
/// new key at once; a retired selector is not reused, as caches may still hold its record. A
/// domain with DKIM by CNAME delegation is the exception: its records are the platform's, so its
/// keys take turns under two selectors ([`crate::SigningDomain::next_delegated_selector`]).
pub fn next_selector(base: &Selector, keys: &[SigningKey]) -> Selector {
    let used = |candidate: &Selector| keys.iter().any(|key| &key.selector == candidate);
    if !used(base) {
        return base.clone();
    }
    (2u32..)
        .filter_map(|number| Selector::parse(&format!("{base}{number}")).ok())
        .find(|candidate| !used(candidate))
        .expect("some numbered selector is free")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyOrigin, SystemClock};
    use KeyEvent::*;
    use KeyState::*;

    const MARGIN: i64 = 7 * 86_400;
    const SINCE: i64 = 1_000_000;

    #[track_caller]
    fn check(state: KeyState, event: KeyEvent, now: i64, expected: Option<KeyState>) {
        let policy = KeyPolicy::default();
        let got = next_state(state, Timestamp(SINCE), event, Timestamp(now), &policy);
        assert_eq!(got, expected, "{state} + {event:?} at {now}");
    }

    fn drain(unfinished: u64, last: Option<i64>) -> KeyEvent {
        Drain {
            unfinished,
            last_finished_at: last.map(Timestamp),
        }
    }

    #[test]
    fn transitions() {
        check(Pending, RecordCarriesKey, SINCE, Some(Active));
        check(Pending, ForcedPromotion, SINCE, Some(Active));
        check(Pending, Superseded, SINCE, None);
        check(Pending, Overtaken, SINCE, Some(Retired));
        check(Active, Overtaken, SINCE, None);
        check(Retiring, Overtaken, SINCE, None);
        check(Pending, drain(0, None), SINCE + MARGIN, None);
        check(Active, RecordCarriesKey, SINCE, None);
        check(Active, ForcedPromotion, SINCE, None);
        check(Active, Superseded, SINCE, Some(Retiring));
        check(Active, drain(0, None), SINCE + MARGIN, None);
        check(Retiring, RecordCarriesKey, SINCE, None);
        check(Retiring, Superseded, SINCE, None);
        check(Retiring, drain(1, None), SINCE + 10 * MARGIN, None);
        check(Retiring, drain(0, None), SINCE + MARGIN - 1, None);
        check(Retiring, drain(0, None), SINCE + MARGIN, Some(Retired));
        check(
            Retiring,
            drain(0, Some(SINCE - 5)),
            SINCE + MARGIN,
            Some(Retired),
        );
        check(Retiring, drain(0, Some(SINCE + 100)), SINCE + MARGIN, None);
        check(
            Retiring,
            drain(0, Some(SINCE + 100)),
            SINCE + 100 + MARGIN,
            Some(Retired),
        );
        check(Retired, RecordCarriesKey, SINCE, None);
        check(Retired, ForcedPromotion, SINCE, None);
        check(Retired, drain(0, None), SINCE + MARGIN, None);
    }

    #[test]
    fn states_read_back() {
        for state in [Pending, Active, Retiring, Retired] {
            assert_eq!(KeyState::parse(state.as_str()), Some(state));
        }
        assert_eq!(KeyState::parse("Active"), None);
        assert!(Retiring.record_needed() && !Retired.record_needed());
    }

    fn key(selector: &str, state: KeyState) -> SigningKey {
        SigningKey {
            id: KeyId::new(&SystemClock),
            selector: Selector::parse(selector).unwrap(),
            state,
            state_since: Timestamp(SINCE),
            forced: false,
            algorithm: crate::KeyAlgorithm::Rsa,
            public_key_der: vec![1],
            bits: 2048,
            origin: KeyOrigin::Generated,
            created_at: Timestamp(SINCE),
        }
    }

    fn moves(changes: &[KeyChange]) -> Vec<(String, KeyState, KeyState, bool)> {
        changes
            .iter()
            .map(|change| {
                let selector = change.selector.to_string();
                (selector, change.from, change.to, change.forced)
            })
            .collect()
    }

    #[test]
    fn promotion_retires_the_active_key_in_the_same_change() {
        let mut keys = [
            key("old", Retired),
            key("s1", Active),
            key("s2", Pending),
            key("s3", Pending),
        ];
        keys[3].created_at = Timestamp(SINCE + 1);
        let policy = KeyPolicy::default();
        let now = Timestamp(SINCE + 10);
        let changes = promote(&keys, keys[2].id, Promotion::Published, now, &policy).unwrap();
        assert_eq!(
            moves(&changes),
            [
                ("s1".into(), Active, Retiring, false),
                ("s2".into(), Pending, Active, false),
            ]
        );
        let newest = promote(&keys, keys[3].id, Promotion::Published, now, &policy).unwrap();
        assert_eq!(
            moves(&newest),
            [
                ("s1".into(), Active, Retiring, false),
                ("s2".into(), Pending, Retired, false),
                ("s3".into(), Pending, Active, false),
            ]
        );
        let forced = promote(&keys[2..], keys[3].id, Promotion::Forced, now, &policy).unwrap();
        // A pending key older than the one promoted is superseded: it can never sign.
        assert_eq!(
            moves(&forced),
            [
                ("s2".into(), Pending, Retired, false),
                ("s3".into(), Pending, Active, true),
            ]
        );
        assert_eq!(
            promote(&keys, keys[1].id, Promotion::Forced, now, &policy),
            Err(KeyRefusal::NotPending {
                selector: Selector::parse("s1").unwrap(),
                state: Active
            })
        );
        assert_eq!(
            promote(&keys[1..], keys[0].id, Promotion::Published, now, &policy),
            Err(KeyRefusal::UnknownKey)
        );
    }

    #[test]
    fn an_ed25519_promotion_leaves_the_rsa_keys_alone_and_the_other_way_round() {
        let mut keys = [
            key("s1", Active),
            key("s2", Pending),
            key("s1-ed", Active),
            key("s1-ed2", Pending),
        ];
        for ed25519 in &mut keys[2..] {
            ed25519.algorithm = crate::KeyAlgorithm::Ed25519;
        }
        let policy = KeyPolicy::default();
        let now = Timestamp(SINCE + 10);
        let ed = promote(&keys, keys[3].id, Promotion::Published, now, &policy).unwrap();
        assert_eq!(
            moves(&ed),
            [
                ("s1-ed".into(), Active, Retiring, false),
                ("s1-ed2".into(), Pending, Active, false),
            ]
        );
        let rsa = promote(&keys, keys[1].id, Promotion::Published, now, &policy).unwrap();
        assert_eq!(
            moves(&rsa),
            [
                ("s1".into(), Active, Retiring, false),
                ("s2".into(), Pending, Active, false),
            ]
        );
    }

    #[test]
    fn delegated_keys_alternate_between_two_selectors_once_a_key_has_retired() {
        let mut domain = crate::SigningDomain {
            id: crate::SigningDomainId::new(&SystemClock),
            tenant_id: crate::TenantId::new(&SystemClock),
            domain: crate::DomainName::parse("client.example").unwrap(),
            selector: Selector::parse("workplace").unwrap(),
            active: true,
            keys: Vec::new(),
            dns: crate::DnsStatus::new(Timestamp(SINCE)),
            records: Vec::new(),
            version: 1,
            created_at: Timestamp(SINCE),
            updated_at: Timestamp(SINCE),
        };
        let next = |domain: &crate::SigningDomain| {
            domain
                .next_delegated_selector(crate::KeyAlgorithm::Rsa)
                .map(|selector| selector.to_string())
        };
        assert_eq!(next(&domain).as_deref(), Some("workplace"));
        domain.keys = vec![key("workplace", Active)];
        assert_eq!(next(&domain).as_deref(), Some("workplace2"));
        domain.keys = vec![key("workplace", Retiring), key("workplace2", Active)];
        assert_eq!(next(&domain), None, "both selectors hold keys");
        domain.keys[0].state = Retired;
        assert_eq!(next(&domain).as_deref(), Some("workplace"));
        assert_eq!(
            domain
                .delegation_selectors(crate::KeyAlgorithm::Ed25519)
                .iter()
                .map(Selector::as_str)
                .collect::<Vec<_>>(),
            ["workplace-ed", "workplace-ed2"]
        );
    }

    #[test]
    fn new_keys_get_unused_selectors() {
        let base = Selector::parse("workplace").unwrap();
        assert_eq!(next_selector(&base, &[]).as_str(), "workplace");
        let keys = [key("workplace", Retired), key("workplace2", Active)];
        assert_eq!(next_selector(&base, &keys).as_str(), "workplace3");
        assert_eq!(next_selector(&base, &keys[1..]).as_str(), "workplace");
    }
}
