//! Sealpost's vocabulary: tenants, signing domains, DKIM keys as stored facts, and the DNS record a
//! tenant must publish. Pure data and validation; no I/O, no serialisation formats, no SQL.

mod address;
mod checker;
mod client_connections;
mod clock;
mod content;
mod delivery;
mod dkim_delegation;
mod dns_record;
mod dns_records;
mod dns_state;
mod domain_event;
mod ids;
mod key_algorithm;
mod key_lifecycle;
mod key_rotation;
pub mod limits;
mod mailing;
mod message;
mod names;
mod reputation;
mod return_path;
mod sending_identity;
mod signing_decision;
mod signing_domain;
mod suppression;
mod tenant;
mod user;
mod webhook;

pub use address::{AddressError, EmailAddress, split_name_addr};
pub use checker::{CheckerAddress, CheckerReportRecord};
pub use client_connections::{ClientConnections, ClientSlot, client_key};
pub use clock::{Clock, SystemClock};
pub use content::{ContentProblem, check_content};
pub use delivery::{DeliveryMode, RelaySettings, TlsMode};
pub use dkim_delegation::{DelegationError, DkimDelegation, DkimZone, encode_domain};
pub use dns_record::{DkimDnsRecord, dkim_txt_value, dkim_txt_value_for, split_txt_value};
pub use dns_records::{
    RecordChange, RecordCheck, RecordFinding, RecordKind, RecordOutcome, after_record_checks,
    overall_outcome as overall_dns_outcome,
};
pub use dns_state::{
    CheckOutcome, DnsChange, DnsPolicy, DnsState, DnsStatus, LastCheck, RecordVerdict,
    after_check as after_dns_check,
};
pub use domain_event::{Activation, DomainChanges, DomainEvent, RotationRecord};
pub use ids::{
    ApiKeyId, AttemptId, CheckerReportId, ContactId, KeyId, MailingId, MessageId, RecipientId,
    SigningDomainId, TenantId, UserId, WebhookEndpointId,
};
pub use key_algorithm::KeyAlgorithm;
pub use key_lifecycle::{
    KeyChange, KeyEvent, KeyPolicy, KeyRefusal, KeyState, Promotion, next_selector,
    next_state as next_key_state, promote,
};
pub use key_rotation::{
    KeyRotation, RotationDue, RotationPeriod, RotationPeriodError, rotation_schedule, rotations_due,
};
pub use mailing::{Contact, Mailing, MailingProgress};
pub use message::{
    AttemptResult, DkimVerdict, IdempotencyKey, MessageSummary, QueuedMessage, Recipient,
    RecipientState, Route, SubmissionSource,
};
pub use names::{DomainName, NameError, Selector, dkim_record_name};
pub use reputation::{ReputationPolicy, SendingFigures, Standing, judge as judge_reputation};
pub use return_path::{ReturnPath, ReturnPathError};
pub use sending_identity::{
    AddressRole, Proof, ProofMethod, SendingDomain, UnprovenDomain, VERIFICATION_LABEL,
    VERIFICATION_PREFIX, VerificationToken, check_sender_domains,
};
pub use signing_decision::{SigningRecord, UnsignedReason, decide as decide_signing};
pub use signing_domain::{
    HashAlgorithm, KeyOrigin, NewSigningDomain, REQUIRED_KEY_BITS, SealedKey, SigningDomain,
    SigningKey, public_key_pem,
};
pub use suppression::{Feedback, SuppressedAddress, Suppression, SuppressionReason};
pub use tenant::{Tenant, TenantName};
pub use user::{Email, User, UserRole};
/// The id type [`Clock::new_uuid`] returns, for clocks written elsewhere.
pub use uuid::Uuid;
pub use webhook::{
    EventType, EventTypes, WebhookEndpoint, WebhookUrlError, check_webhook_url,
    is_public as is_public_address,
};

/// A point in time as whole seconds since the Unix epoch (UTC). Callers pass it in; nothing in
/// Sealpost's libraries reads the clock by itself, so tests control time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A UTC calendar date and time of day, for the places that print dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    pub year: i64,
    /// 1 to 12.
    pub month: i64,
    /// 1 to 31.
    pub day: i64,
    /// 0 (Monday) to 6 (Sunday).
    pub weekday: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

impl Timestamp {
    /// The time as RFC 3339 in UTC, such as `2026-12-03T13:25:00Z`.
    pub fn rfc3339(self) -> String {
        let civil = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
        )
    }

    /// The UTC date and time, in the proleptic Gregorian calendar (Howard Hinnant's
    /// days-to-civil algorithm), so no date library is needed for the few formats Sealpost
    /// prints.
    pub fn civil(self) -> CivilTime {
        let days = self.0.div_euclid(86_400);
        let seconds = self.0.rem_euclid(86_400);
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        CivilTime {
            year: year_of_era + era * 400 + i64::from(month <= 2),
            month,
            day: day_of_year - (153 * month_index + 2) / 5 + 1,
            // 1970-01-01 was a Thursday.
            weekday: (days + 3).rem_euclid(7),
            hour: seconds / 3600,
            minute: seconds / 60 % 60,
            second: seconds % 60,
        }
    }
}
