//! The platform's own checks (`sealpost doctor`), as data: each judge takes facts already
//! gathered (DNS answers, certificate dates, the database's schema) and returns a [`Check`]
//! saying what was found and what to change. Nothing here looks anything up or reads the clock.

mod certificate;

pub use certificate::{CertificateFacts, certificate};

use std::net::IpAddr;

use sealpost_dns::LookupError;

use crate::dkim_record::DkimRecordCheck;
use crate::spf::{Network, platform_record};

/// What a check is about; one name per check, stable for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// A sending address's reverse DNS: PTR, back to the address, equal to the HELO name.
    ReverseDns,
    /// The platform's SPF include record lists exactly its sending networks.
    SpfInclude,
    /// The DKIM record of the platform's own domain carries its key.
    PlatformDkim,
    /// A connection to a remote SMTP port can be opened from this host.
    OutboundSmtp,
    /// The SMTP listener's certificate chain and its dates.
    TlsCertificate,
    /// The database answers and its schema is that of this version.
    Database,
    /// The master key is present and is the one the database was sealed with.
    MasterKey,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReverseDns => "reverse_dns",
            Self::SpfInclude => "spf_include",
            Self::PlatformDkim => "platform_dkim",
            Self::OutboundSmtp => "outbound_smtp",
            Self::TlsCertificate => "tls_certificate",
            Self::Database => "database",
            Self::MasterKey => "master_key",
        }
    }
}

/// How a check came out. Only `Fail` and `Unknown` make the platform not green.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckStatus {
    Pass,
    /// Works, but an operator should know (a self-signed certificate, a close expiry).
    Warn,
    /// Not configured, or left out on request (offline mode).
    Skipped,
    /// The check could not be made (a DNS timeout, a refused connection to the database).
    Unknown,
    /// Something to fix.
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Skipped => "skipped",
            Self::Unknown => "unknown",
            Self::Fail => "fail",
        }
    }
}

/// One conclusion: what was checked, what was found, and the change that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub kind: CheckKind,
    pub status: CheckStatus,
    /// What this check looked at: an address, a DNS name, a file.
    pub subject: String,
    pub found: String,
    pub fix: Option<String>,
}

impl Check {
    pub fn new(kind: CheckKind, status: CheckStatus, subject: impl Into<String>) -> Self {
        Self {
            kind,
            status,
            subject: subject.into(),
            found: String::new(),
            fix: None,
        }
    }

    pub fn found(mut self, found: impl Into<String>) -> Self {
        self.found = found.into();
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// The verdict over all checks, which scripts read as the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to fix and everything that was asked could be checked.
    Green,
    /// At least one check failed: there is something to fix.
    ToFix,
    /// Nothing failed, but at least one check could not be made.
    Unchecked,
}

impl Verdict {
    pub fn of(checks: &[Check]) -> Self {
        match checks.iter().map(|check| check.status).max() {
            Some(CheckStatus::Fail) => Self::ToFix,
            Some(CheckStatus::Unknown) => Self::Unchecked,
            _ => Self::Green,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::ToFix => "to_fix",
            Self::Unchecked => "unchecked",
        }
    }
}

/// Forward-confirmed reverse DNS of one sending address (RFC 8601 section 3's "iprev"): `ptr` is
/// the PTR answer, `forward` the addresses of each PTR name. Receivers such as Gmail refuse mail
/// from an address whose PTR is missing or does not lead back to it.
pub fn reverse_dns(
    ip: IpAddr,
    helo: &str,
    ptr: &Result<Vec<String>, LookupError>,
    forward: &[(String, Result<Vec<IpAddr>, LookupError>)],
) -> Check {
    let check = Check::new(CheckKind::ReverseDns, CheckStatus::Fail, ip.to_string());
    let set_ptr = format!(
        "Ask the owner of {ip} (the hosting provider) to set its PTR record to {helo}, and \
         publish an A or AAAA record for {helo} with {ip}."
    );
    let names = match ptr {
        Ok(names) => names,
        Err(LookupError::NxDomain | LookupError::NoData) => {
            return check.found(format!("{ip} has no PTR record")).fix(set_ptr);
        }
        Err(LookupError::Temporary(error)) => {
            return Check::new(CheckKind::ReverseDns, CheckStatus::Unknown, ip.to_string())
                .found(format!("the PTR lookup failed: {error}"));
        }
    };
    let confirmed: Vec<&str> = forward
        .iter()
        .filter(|(_, answer)| matches!(answer, Ok(addresses) if addresses.contains(&ip)))
        .map(|(name, _)| name.as_str())
        .collect();
    let listed = names.join(", ");
    if confirmed.is_empty() {
        if let Some((name, Err(LookupError::Temporary(error)))) = forward.first() {
            return Check::new(CheckKind::ReverseDns, CheckStatus::Unknown, ip.to_string())
                .found(format!("the lookup of {name} failed: {error}"));
        }
        return check
            .found(format!("PTR {listed}, which does not resolve back to {ip}"))
            .fix(format!(
                "Publish an A or AAAA record with {ip} for {}, or set the PTR of {ip} to a name \
                 that has it.",
                names.first().map_or(helo, String::as_str)
            ));
    }
    match confirmed.iter().any(|name| same_name(name, helo)) {
        true => Check::new(CheckKind::ReverseDns, CheckStatus::Pass, ip.to_string())
            .found(format!("PTR {helo}, which resolves back to {ip}")),
        false => check
            .found(format!(
                "PTR {listed} resolves back to {ip}, but the HELO name is {helo}"
            ))
            .fix(format!(
                "Make them one name: set delivery.helo_name to {}, or set the PTR of {ip} to \
                 {helo}.",
                confirmed[0]
            )),
    }
}

/// A configured network wider than one address, whose reverse DNS cannot be checked address by
/// address.
pub fn reverse_dns_of_network(network: &Network) -> Check {
    Check::new(
        CheckKind::ReverseDns,
        CheckStatus::Warn,
        network.to_string(),
    )
    .found(format!(
        "{network} is a network; the reverse DNS of its addresses is not checked"
    ))
    .fix("List the addresses this platform sends from one by one in platform.sending_ips.")
}

/// The platform's include record at `include_host` (the TXT answer) against the configured
/// networks: it must list each of them and nothing else, since every tenant's SPF includes it.
pub fn spf_include(
    include_host: &str,
    answer: &Result<Vec<String>, LookupError>,
    networks: &[Network],
) -> Check {
    let check = Check::new(CheckKind::SpfInclude, CheckStatus::Fail, include_host);
    let publish = format!(
        "Publish one TXT record at {include_host}: {}",
        platform_record(networks)
    );
    let records: Vec<&String> = match answer {
        Ok(texts) => texts
            .iter()
            .filter(|text| is_spf_record(text.as_str()))
            .collect(),
        Err(LookupError::Temporary(error)) => {
            return Check::new(CheckKind::SpfInclude, CheckStatus::Unknown, include_host)
                .found(format!("the TXT lookup failed: {error}"));
        }
        Err(_) => Vec::new(),
    };
    let record = match records.as_slice() {
        [] => return check.found("no SPF record").fix(publish),
        [record] => record.as_str(),
        several => {
            return check
                .found(format!("{} SPF records (a permanent error)", several.len()))
                .fix(publish);
        }
    };
    let differences = differences(record, networks);
    match differences.is_empty() {
        true => Check::new(CheckKind::SpfInclude, CheckStatus::Pass, include_host).found(record),
        false => check
            .found(format!("{record} ({})", differences.join("; ")))
            .fix(publish),
    }
}

fn is_spf_record(text: &str) -> bool {
    let lowered = text.to_ascii_lowercase();
    lowered == "v=spf1" || lowered.starts_with("v=spf1 ")
}

/// What keeps `record` from being exactly the platform's record for `networks`.
fn differences(record: &str, networks: &[Network]) -> Vec<String> {
    let mut listed = Vec::new();
    let mut differences = Vec::new();
    let mut ends_in_fail = false;
    for term in record.split_ascii_whitespace().skip(1) {
        let lowered = term.to_ascii_lowercase();
        let network = lowered
            .strip_prefix("+")
            .unwrap_or(&lowered)
            .strip_prefix("ip4:")
            .or_else(|| lowered.strip_prefix("ip6:"))
            .and_then(|text| text.parse::<Network>().ok());
        match (network, lowered.as_str()) {
            (Some(network), _) => listed.push(network),
            (None, "-all") => ends_in_fail = true,
            (None, _) => differences.push(format!("{term} is not one of the platform's networks")),
        }
    }
    for network in networks {
        if !listed.contains(network) {
            differences.push(format!("{network} is missing"));
        }
    }
    for network in &listed {
        if !networks.contains(network) {
            differences.push(format!(
                "{network} is listed but not in platform.sending_ips"
            ));
        }
    }
    if !ends_in_fail {
        differences.push("it does not end in -all".to_owned());
    }
    differences
}

/// The platform domain's DKIM record, when the operator named the tenant that signs for it.
pub fn platform_dkim(record: &DkimRecordCheck) -> Check {
    let status = match (&record.cause, record.usable()) {
        (crate::dkim_record::DkimRecordCause::Dns(_), _) => CheckStatus::Unknown,
        (crate::dkim_record::DkimRecordCause::TestingMode, _) => CheckStatus::Warn,
        (_, true) => CheckStatus::Pass,
        (_, false) => CheckStatus::Fail,
    };
    let check =
        Check::new(CheckKind::PlatformDkim, status, record.name.clone()).found(record.describe());
    match status {
        CheckStatus::Pass => check,
        _ => check.fix(record.fix()),
    }
}

/// How a connection to a remote SMTP server went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Connected to this host and port.
    Opened(String),
    /// Refused or timed out: `target` and the error.
    Failed { target: String, error: String },
    /// The probe's own MX lookup failed, so no connection was tried.
    NoTarget(String),
}

/// Whether this host can open outbound SMTP connections; many hosting providers block port 25.
pub fn outbound_smtp(probe_domain: &str, connection: &Connection) -> Check {
    let check = Check::new(CheckKind::OutboundSmtp, CheckStatus::Pass, probe_domain);
    match connection {
        Connection::Opened(target) => check.found(format!("connected to {target}")),
        Connection::Failed { target, error } => Check {
            status: CheckStatus::Fail,
            ..check
        }
        .found(format!("no connection to {target}: {error}"))
        .fix(
            "Open outbound TCP port 25 in the firewall; many hosting providers block it until \
             asked, or send through a relay that accepts mail on another port.",
        ),
        Connection::NoTarget(error) => Check {
            status: CheckStatus::Unknown,
            ..check
        }
        .found(format!(
            "no mail host of {probe_domain} to connect to: {error}"
        )),
    }
}

/// Names compared as DNS compares them: case-insensitively, with or without the final dot.
fn same_name(left: &str, right: &str) -> bool {
    left.trim_end_matches('.')
        .eq_ignore_ascii_case(right.trim_end_matches('.'))
}

#[cfg(test)]
mod tests;
