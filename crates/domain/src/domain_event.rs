//! What happened to a signing domain or one of its keys, as one event per state change: the
//! history the pages show and what webhooks will carry (SPEC S10.6, S11.2). Every change is
//! committed together with its event, so neither exists without the other.

use crate::{
    DnsChange, KeyChange, KeyId, KeyState, RecordChange, RecordFinding, RotationPeriod, Selector,
};

/// Where the record of a key added by an automatic rotation comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationRecord {
    /// The tenant publishes this TXT record (name, value).
    Txt { name: String, value: String },
    /// The domain's CNAME delegates the selector to the platform's DKIM zone, which serves the
    /// record: nothing to publish.
    Delegated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// A key was generated or imported; it waits for its record.
    KeyAdded {
        key: KeyId,
        selector: Selector,
    },
    /// An automatic rotation added a key (beside its `key.pending` event): what the tenant must
    /// publish for it, if anything.
    RotationStarted {
        key: KeyId,
        selector: Selector,
        /// The active key it will replace.
        replaces: Selector,
        period: RotationPeriod,
        record: RotationRecord,
    },
    KeyChanged(KeyChange),
    DnsChanged(DnsChange),
    /// A re-check found a record beside DKIM (SPF, DMARC, the return path) definitely changed.
    RecordChanged(RecordChange),
    /// Signing was switched on; `forced` when DNS did not carry the key.
    Activated {
        forced: bool,
    },
    Deactivated,
}

impl DomainEvent {
    /// A stable name for APIs and webhooks: `key.pending`, `key.rotation_started`, `key.active`,
    /// `key.retiring`, `key.retired`, `domain.verified`, `domain.warning`, `domain.failed`, `domain.pending`,
    /// `domain.record_changed`, `domain.activated`, `domain.deactivated`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::KeyAdded { .. } => "key.pending",
            Self::RotationStarted { .. } => "key.rotation_started",
            Self::KeyChanged(change) => match change.to {
                KeyState::Pending => "key.pending",
                KeyState::Active => "key.active",
                KeyState::Retiring => "key.retiring",
                KeyState::Retired => "key.retired",
            },
            Self::DnsChanged(change) => match change.to {
                crate::DnsState::Pending => "domain.pending",
                crate::DnsState::Verified => "domain.verified",
                crate::DnsState::Warning => "domain.warning",
                crate::DnsState::Failed => "domain.failed",
            },
            Self::RecordChanged(_) => "domain.record_changed",
            Self::Activated { .. } => "domain.activated",
            Self::Deactivated => "domain.deactivated",
        }
    }

    /// The key the event is about, if it is about one.
    pub fn key(&self) -> Option<KeyId> {
        match self {
            Self::KeyAdded { key, .. } | Self::RotationStarted { key, .. } => Some(*key),
            Self::KeyChanged(change) => Some(change.key),
            Self::DnsChanged(_)
            | Self::RecordChanged(_)
            | Self::Activated { .. }
            | Self::Deactivated => None,
        }
    }

    /// Whether the event records something done against the evidence of DNS.
    pub fn is_warning(&self) -> bool {
        match self {
            Self::KeyChanged(change) => change.forced,
            Self::Activated { forced } => *forced,
            Self::KeyAdded { .. }
            | Self::RotationStarted { .. }
            | Self::DnsChanged(_)
            | Self::RecordChanged(_)
            | Self::Deactivated => false,
        }
    }

    /// One sentence for people.
    pub fn describe(&self) -> String {
        match self {
            Self::KeyAdded { selector, .. } => {
                format!("A new key under selector {selector} waits for its DNS record.")
            }
            Self::RotationStarted {
                selector,
                replaces,
                period,
                record,
                ..
            } => {
                let opening = format!(
                    "Automatic rotation ({period}): a new key under selector {selector} will \
                     replace the key under selector {replaces}."
                );
                match record {
                    RotationRecord::Txt { name, value } => format!(
                        "{opening} Publish the TXT record {name} with the value \"{value}\"; \
                         the new key signs once DNS carries it, and until then the current key \
                         keeps signing."
                    ),
                    RotationRecord::Delegated => format!(
                        "{opening} Nothing to do: the domain's CNAME delegates the record to \
                         the platform, which serves it; the new key signs from the next check."
                    ),
                }
            }
            Self::KeyChanged(change) => match (change.to, change.forced) {
                (KeyState::Active, true) => format!(
                    "The key under selector {} was made active by force, without its DNS \
                     record being found: receivers may fail its signatures.",
                    change.selector
                ),
                (KeyState::Active, false) => format!(
                    "The key under selector {} signs from now on: its DNS record was found.",
                    change.selector
                ),
                (KeyState::Retiring, _) => format!(
                    "The key under selector {} no longer signs; keep its DNS record published.",
                    change.selector
                ),
                (KeyState::Retired, _) => format!(
                    "The key under selector {} is retired: its DNS record is safe to remove.",
                    change.selector
                ),
                (KeyState::Pending, _) => {
                    format!("The key under selector {} is pending.", change.selector)
                }
            },
            Self::DnsChanged(change) => {
                format!(
                    "The domain's DNS state went from {} to {}.",
                    change.from, change.to
                )
            }
            Self::RecordChanged(change) => {
                format!(
                    "The {} record at {} went from {} to {}: {}",
                    change.kind.label(),
                    change.name,
                    change.from,
                    change.to,
                    change.detail.trim_end_matches('.')
                ) + "."
            }
            Self::Activated { forced: true } => "Signing was switched on by force, without the \
                                                  key's DNS record being found."
                .to_owned(),
            Self::Activated { forced: false } => "Signing was switched on.".to_owned(),
            Self::Deactivated => "Signing was switched off.".to_owned(),
        }
    }
}

/// Switching signing on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    On { forced: bool },
    Off,
}

/// Everything one use case changes about a signing domain. The store commits it in one
/// transaction together with [`DomainChanges::events`], so every change has its event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainChanges {
    pub keys: Vec<KeyChange>,
    pub activation: Option<Activation>,
    /// The status after a DNS check, and its change of state if there was one.
    pub dns: Option<(crate::DnsStatus, Option<DnsChange>)>,
    /// The findings of a re-check for the records beside DKIM, which replace the stored ones,
    /// and their definite changes.
    pub records: Option<(Vec<RecordFinding>, Vec<RecordChange>)>,
}

impl DomainChanges {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.activation.is_none()
            && self.dns.is_none()
            && self.records.is_none()
    }

    /// One event per change: keys first, then the records beside DKIM, then the domain's DNS
    /// state, then signing.
    pub fn events(&self) -> Vec<DomainEvent> {
        let keys = self.keys.iter().cloned().map(DomainEvent::KeyChanged);
        let dns = self
            .dns
            .iter()
            .filter_map(|(_, change)| *change)
            .map(DomainEvent::DnsChanged);
        let records = self
            .records
            .iter()
            .flat_map(|(_, changes)| changes.iter().cloned())
            .map(DomainEvent::RecordChanged);
        let activation = self.activation.map(|activation| match activation {
            Activation::On { forced } => DomainEvent::Activated { forced },
            Activation::Off => DomainEvent::Deactivated,
        });
        keys.chain(records).chain(dns).chain(activation).collect()
    }
}
