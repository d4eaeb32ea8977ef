//! A signing domain, its key and the DKIM record to publish (SPEC S3.6). Domain types stay free
//! of serialisation; these views decide exactly which fields leave the server, and none has a
//! field for private key material.

use sealpost_domain::{
    DkimDnsRecord, DnsStatus, RecordFinding, RecordOutcome, SigningDomain, SigningKey,
};
use sealpost_store::DomainEventRecord;
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SigningDomainView {
    pub id: String,
    /// The domain in ASCII (punycode for internationalised names).
    pub domain: String,
    /// The domain as people read it (Unicode).
    pub domain_unicode: String,
    /// The selector of the domain's first key; later keys get numbered variants of it.
    pub selector: String,
    /// Only active signing domains sign mail, with their active key.
    pub active: bool,
    /// The current key: the active one, else the newest pending one; absent until one is
    /// generated or imported.
    pub key: Option<KeyView>,
    /// Every key the domain has had, oldest first, each with its state and what to do about it.
    pub keys: Vec<KeyView>,
    /// The domain's standing in DNS and its last check.
    pub dns: DnsStatusView,
    /// What the last re-check found of the records beside DKIM: SPF (when the platform's
    /// sending networks are configured), DMARC, and the return-path domain's MX and SPF (when
    /// it has one). Empty until the first re-check.
    pub dns_records: Vec<RecordFindingView>,
    /// What the tenant must do next, in one sentence.
    pub next_step: String,
    /// Increases on every change.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Read-only facts about a signing key (SPEC S3.6).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyView {
    pub id: String,
    /// The key's record is published at `<selector>._domainkey.<domain>`.
    pub selector: String,
    /// `pending` (its record waits to be published; not used), `active` (signs), `retiring`
    /// (no longer signs; keep its record published), `retired` (safe to remove from DNS).
    pub state: &'static str,
    /// When the key entered its state.
    pub state_since: i64,
    /// Made active by force, without DNS carrying it.
    pub forced: bool,
    /// The name of the key's TXT record.
    pub record_name: String,
    /// What the tenant must do about this key.
    pub next_step: String,
    /// `rsa` (every domain's signing key) or `ed25519` (a second signature beside the RSA one,
    /// RFC 8463).
    pub algorithm: &'static str,
    /// Always `sha256`.
    pub hash_algorithm: &'static str,
    /// Modulus length, always 2048, for RSA; 256 for Ed25519.
    pub bits: u32,
    /// The public key as a PEM document, derived from the private key.
    pub public_key_pem: String,
    /// `generated` or `imported`.
    pub origin: &'static str,
    pub created_at: i64,
}

impl KeyView {
    fn new(domain: &SigningDomain, key: &SigningKey) -> Self {
        Self {
            id: key.id.to_string(),
            selector: key.selector.as_str().to_owned(),
            state: key.state.as_str(),
            state_since: key.state_since.0,
            forced: key.forced,
            record_name: domain.record_name(key),
            next_step: domain.key_next_step(key),
            algorithm: key.algorithm.as_str(),
            hash_algorithm: key.hash_algorithm().as_str(),
            bits: key.bits,
            public_key_pem: key.public_key_pem(),
            origin: key.origin.as_str(),
            created_at: key.created_at.0,
        }
    }
}

impl From<SigningDomain> for SigningDomainView {
    fn from(domain: SigningDomain) -> Self {
        Self {
            id: domain.id.to_string(),
            domain_unicode: domain.domain.to_unicode(),
            domain: domain.domain.as_str().to_owned(),
            selector: domain.selector.as_str().to_owned(),
            active: domain.active,
            key: domain.current_key().map(|key| KeyView::new(&domain, key)),
            keys: domain
                .keys
                .iter()
                .map(|key| KeyView::new(&domain, key))
                .collect(),
            dns: DnsStatusView::from(&domain.dns),
            dns_records: domain.records.iter().map(RecordFindingView::from).collect(),
            next_step: domain.next_step(),
            version: domain.version,
            created_at: domain.created_at.0,
            updated_at: domain.updated_at.0,
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DnsRecordView {
    /// Owner name: `<selector>._domainkey.<domain>`.
    pub name: String,
    /// Always `TXT`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    pub value: String,
    /// The value split into strings of at most 255 characters.
    pub strings: Vec<String>,
    pub zone_line: String,
    pub advice: &'static str,
}

impl From<DkimDnsRecord> for DnsRecordView {
    fn from(record: DkimDnsRecord) -> Self {
        Self {
            name: record.name,
            record_type: record.record_type,
            value: record.value,
            strings: record.strings,
            zone_line: record.zone_line,
            advice: record.advice,
        }
    }
}

/// One CNAME of DKIM by CNAME delegation (SPEC S11.4): published once instead of the TXT record,
/// it points a selector's name into the platform's DKIM zone, which serves the key record.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DelegationRecordView {
    /// `<selector>._domainkey.<domain>`.
    pub name: String,
    /// The name relative to the DNS zone, as DNS providers' forms ask for it.
    pub host: String,
    /// Always `CNAME`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// The name in the platform's DKIM zone.
    pub value: String,
    pub zone_line: String,
}

impl DelegationRecordView {
    pub fn new(name: String, host: String, value: String) -> Self {
        Self {
            zone_line: format!("{name}. 3600 IN CNAME {value}."),
            name,
            host,
            record_type: "CNAME",
            value,
        }
    }
}

/// A domain's DNS state (SPEC S11.2) and its last check.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DnsStatusView {
    /// `pending` (the key's record not found yet), `verified`, `warning` (a record that must be
    /// published was not found at the last check) or `failed` (not found for the grace period).
    pub state: &'static str,
    /// When the state last changed.
    pub since: i64,
    /// The first failed check of the current run of failures.
    pub failing_since: Option<i64>,
    pub last_checked_at: Option<i64>,
    /// `found`, `missing`, `temporary_error` or `no_key`.
    pub last_outcome: Option<&'static str>,
    /// The last check's result in one sentence.
    pub last_summary: Option<String>,
    /// When the scheduled re-check is due.
    pub next_check_at: i64,
}

impl From<&DnsStatus> for DnsStatusView {
    fn from(status: &DnsStatus) -> Self {
        let last = status.last_check.as_ref();
        Self {
            state: status.state.as_str(),
            since: status.since.0,
            failing_since: status.failing_since.map(|at| at.0),
            last_checked_at: last.map(|check| check.at.0),
            last_outcome: last.map(|check| check.outcome.as_str()),
            last_summary: last.map(|check| check.summary.clone()),
            next_check_at: status.next_check_at.0,
        }
    }
}

/// What the last re-check found of one record beside DKIM (SPEC S11.2).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordFindingView {
    /// `spf`, `dmarc`, `return_path_mx` or `return_path_spf`.
    pub kind: &'static str,
    /// The DNS name looked up.
    pub name: String,
    /// What the last re-check saw: `found`, `missing`, `wrong` or `temporary_error` (DNS did
    /// not answer; never counted as a failure).
    pub outcome: &'static str,
    /// What was found, in words.
    pub detail: String,
    /// The record's standing in one sentence.
    pub summary: String,
    pub checked_at: i64,
    /// The last answer from DNS (`found`, `missing` or `wrong`), which a temporary error does
    /// not replace; absent until DNS has answered.
    pub settled: Option<&'static str>,
    /// When the settled outcome began.
    pub settled_since: Option<i64>,
    /// The last re-check that found the record as needed.
    pub found_at: Option<i64>,
    /// Found at some re-check, so its loss moves the domain to `warning` (and `failed` after
    /// the grace period); a record never found is shown but does not.
    pub watched: bool,
}

impl From<&RecordFinding> for RecordFindingView {
    fn from(finding: &RecordFinding) -> Self {
        let standing = match finding.outcome {
            RecordOutcome::Found => "as needed",
            RecordOutcome::Missing => "missing",
            RecordOutcome::Wrong => "not as needed",
            RecordOutcome::Temporary => "DNS did not answer, which is not counted as a failure",
        };
        Self {
            kind: finding.kind.as_str(),
            name: finding.name.clone(),
            outcome: finding.outcome.as_str(),
            summary: format!(
                "{} at {}: {standing} ({}).",
                finding.kind.label(),
                finding.name,
                finding.detail.trim_end_matches('.')
            ),
            detail: finding.detail.clone(),
            checked_at: finding.checked_at.0,
            settled: finding.settled.map(RecordOutcome::as_str),
            settled_since: finding.settled_since.map(|at| at.0),
            found_at: finding.found_at.map(|at| at.0),
            watched: finding.watched(),
        }
    }
}

/// One change in a domain's history.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DomainEventView {
    /// `key.pending`, `key.active`, `key.retiring`, `key.retired`, `domain.verified`,
    /// `domain.warning`, `domain.failed`, `domain.record_changed`, `domain.activated`,
    /// `domain.deactivated`.
    pub kind: String,
    pub key_id: Option<String>,
    /// Done against the evidence of DNS (a forced promotion or activation).
    pub warning: bool,
    pub detail: String,
    pub at: i64,
}

impl From<DomainEventRecord> for DomainEventView {
    fn from(record: DomainEventRecord) -> Self {
        Self {
            kind: record.kind,
            key_id: record.key_id.map(|id| id.to_string()),
            warning: record.warning,
            detail: record.detail,
            at: record.at,
        }
    }
}

/// What a re-check of signing domains did (`sealpost dns recheck --json`).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecheckSummaryView {
    pub checked: usize,
    /// Domains whose required records carry their keys.
    pub found: usize,
    pub missing: usize,
    /// Domains whose DNS did not answer; not counted as failures.
    pub temporary: usize,
    pub no_key: usize,
    /// Domains whose SPF record is missing or does not authorise the platform.
    pub spf_problems: usize,
    /// Domains whose DMARC record is missing, duplicated or broken.
    pub dmarc_problems: usize,
    /// Domains whose return-path domain lacks its MX or SPF record as needed.
    pub return_path_problems: usize,
    /// Each change as `domain: event kind`.
    pub changes: Vec<String>,
    pub errors: Vec<String>,
}

impl From<&sealpost_service::RecheckSummary> for RecheckSummaryView {
    fn from(summary: &sealpost_service::RecheckSummary) -> Self {
        Self {
            checked: summary.checked,
            found: summary.found,
            missing: summary.missing,
            temporary: summary.temporary,
            no_key: summary.no_key,
            spf_problems: summary.spf_problems,
            dmarc_problems: summary.dmarc_problems,
            return_path_problems: summary.return_path_problems,
            changes: summary.changes.clone(),
            errors: summary.errors.clone(),
        }
    }
}
