//! The SPF check of a tenant domain (SPEC S2.2, S2.3): its record evaluated for each platform
//! sending address, its limits counted for any sender, its mistakes named, and the minimal edit
//! that adds the platform's include.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sealpost_dns::{LookupError, TxtRecord};
use sealpost_domain::Timestamp;

use crate::finding::{Finding, Status};
use crate::spf::edit::{self, Edit};
use crate::spf::eval::walk;
use crate::spf::memo::Memo;
use crate::spf::parse::{self, Mechanism, Qualifier, Record};
use crate::spf::{
    Network, SpfDns, SpfOutcome, SpfRequest, SpfResult, StepKind, check_host, split_strings,
};

/// The limits of RFC 7208 section 4.6.4, as the findings state them.
const MAX_LOOKUPS: usize = 10;
const MAX_VOID_LOOKUPS: usize = 2;

/// What the tenant check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSpfReport {
    pub domain: String,
    pub include_host: String,
    /// The SPF records at the domain, each as its character-strings as published.
    pub records: Vec<Vec<String>>,
    /// The evaluation for each platform address checked.
    pub addresses: Vec<AddressCheck>,
    /// DNS-querying terms a receiver evaluates for a sender that nothing matches, the worst case
    /// of IPv4 and IPv6 senders, against the limit of 10 (the count stops at 11, where
    /// evaluation stops).
    pub lookups: usize,
    /// Void lookups in such an evaluation, the worst case of both families, against the limit
    /// of 2 (the count stops at 3).
    pub void_lookups: usize,
    pub findings: Vec<Finding>,
    /// The record to publish at the domain, when a change is needed and can be written out.
    pub suggested: Option<SuggestedRecord>,
}

impl TenantSpfReport {
    /// The worst status among the findings.
    pub fn status(&self) -> Status {
        self.findings
            .iter()
            .map(|finding| finding.status)
            .max()
            .unwrap_or(Status::Ok)
    }
}

/// `check_host()` for one platform address, the first or last of one of the platform's networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressCheck {
    pub network: Network,
    pub address: IpAddr,
    pub outcome: SpfOutcome,
}

/// A TXT record to publish: its value, and the value as character-strings of at most 255 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestedRecord {
    pub name: String,
    pub value: String,
    pub strings: Vec<String>,
}

impl SuggestedRecord {
    fn new(name: &str, value: String) -> Self {
        Self {
            name: name.to_owned(),
            strings: split_strings(&value),
            value,
        }
    }
}

/// Checks the SPF record of `domain` for the platform: evaluates it for the first and the last
/// address of each of `platform_networks` (one address for a single host; the ends of a range
/// show whether the whole range is covered, as a tenant who copied part of it would not), as the
/// sender `postmaster@<domain>` with the HELO name `<domain>`, and walks it as for an IPv4 and an
/// IPv6 sender that nothing matches, for the worst-case lookup counts and the errors any sender
/// would meet. `now` is what `%{t}` expands to. Each name is asked once per type for the whole
/// check, as a receiver's caching resolver would answer the repeats.
pub async fn check_tenant_spf(
    dns: &impl SpfDns,
    domain: &str,
    platform_networks: &[Network],
    include_host: &str,
    now: Timestamp,
) -> TenantSpfReport {
    let dns = &Memo::new(dns);
    let mut report = TenantSpfReport {
        domain: domain.to_owned(),
        include_host: include_host.to_owned(),
        records: Vec::new(),
        addresses: Vec::new(),
        lookups: 0,
        void_lookups: 0,
        findings: Vec::new(),
        suggested: None,
    };
    let txt = match dns.txt(domain).await {
        Ok(records) => records,
        Err(LookupError::NxDomain | LookupError::NoData) => Vec::new(),
        Err(LookupError::Temporary(message)) => {
            report.findings.push(Finding::error(
                "spf.dns_error",
                format!("the TXT lookup of {domain} failed: {message}"),
                "an answer from the domain's name servers",
                "Try again later; if it persists, the domain's DNS servers need attention.",
            ));
            return report;
        }
    };
    for strings in txt.iter().map(|record| &record.strings) {
        glued_strings(&mut report.findings, strings);
    }
    let spf: Vec<_> = txt
        .iter()
        .filter(|record| parse::is_spf_record(&record.joined()))
        .collect();
    report.records = spf
        .iter()
        .map(|record| record.strings.iter().map(|s| lossy(s)).collect())
        .collect();

    let sender = format!("postmaster@{domain}");
    for network in platform_networks {
        let ends = match network.is_host() {
            true => vec![network.address()],
            false => vec![network.first(), network.last()],
        };
        for address in ends {
            let request = SpfRequest::mail_from(address, &sender, domain, now);
            let outcome = check_host(dns, &request).await;
            report.addresses.push(AddressCheck {
                network: *network,
                address,
                outcome,
            });
        }
    }
    let walks = walk_both_families(dns, domain, platform_networks, now).await;
    report.lookups = walks.v4.lookups.max(walks.v6.lookups);
    report.void_lookups = walks.v4.void_lookups.max(walks.v6.void_lookups);

    let adds_lookup = record_findings(&mut report, &spf);
    // With several records every evaluation stops at once, so walking says nothing more.
    if spf.len() == 1 {
        walk_findings(&mut report.findings, &walks, adds_lookup, include_host);
    }
    address_findings(&mut report);
    report
}

/// What the SPF records at the domain say: none (with a complete record to publish), one (its
/// syntax, `all` and include), or several. Returns whether the suggestion adds a lookup.
fn record_findings(report: &mut TenantSpfReport, spf: &[&TxtRecord]) -> bool {
    let domain = report.domain.clone();
    let include_host = report.include_host.clone();
    match spf {
        [] => {
            let value = edit::new_record(&include_host);
            report.findings.push(Finding::error(
                "spf.record_missing",
                format!("{domain} has no SPF record"),
                format!(
                    "one TXT record at {domain} starting with \"v=spf1\" that includes \
                     {include_host}"
                ),
                format!(
                    "Publish a TXT record at {domain} with the value \"{value}\". If the domain \
                     also sends mail from other systems, add them before \"~all\"; once every \
                     sender is listed, \"-all\" makes the record strict."
                ),
            ));
            report.suggested = Some(SuggestedRecord::new(&domain, value));
            false
        }
        [record] => {
            let text = lossy(&record.joined());
            report.findings.push(Finding::ok(
                "spf.record",
                format!("one SPF record: \"{text}\""),
                "exactly one SPF record",
            ));
            match parse::parse(&record.joined()) {
                Ok(parsed) => lint_record(&mut report.findings, &parsed),
                Err(error) => report.findings.push(Finding::error(
                    "spf.syntax",
                    format!("a syntax error in {error}"),
                    "a record that follows the syntax of RFC 7208",
                    format!(
                        "Correct {:?} ({}); a receiver treats the whole record as an error.",
                        error.term, error.reason
                    ),
                )),
            }
            include_findings(report, &text)
        }
        several => {
            let records: Vec<String> = several
                .iter()
                .map(|record| format!("\"{}\"", lossy(&record.joined())))
                .collect();
            report.findings.push(Finding::error(
                "spf.records_multiple",
                format!("{} SPF records: {}", several.len(), records.join(", ")),
                "exactly one SPF record; with several, every check ends in permerror \
                 (RFC 7208 section 4.5)",
                format!(
                    "Merge them into one TXT record: one \"v=spf1\", the mechanisms of all of \
                     them, \"include:{include_host}\", and a single \"all\" term at the end; then \
                     delete the others."
                ),
            ));
            false
        }
    }
}

/// Walks the record as for an IPv4 and an IPv6 sender that nothing matches. Receivers see senders
/// of both families, and `a` or `mx` of a name without addresses of one family is a void lookup
/// for that family only.
async fn walk_both_families(
    dns: &impl SpfDns,
    domain: &str,
    platform_networks: &[Network],
    now: Timestamp,
) -> Walks {
    let sender = format!("postmaster@{domain}");
    let walk_from = |ipv6: bool| {
        let found = platform_networks
            .iter()
            .map(Network::first)
            .find(|address| address.is_ipv6() == ipv6);
        let unspecified = match ipv6 {
            true => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            false => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        SpfRequest::mail_from(found.unwrap_or(unspecified), &sender, domain, now)
    };
    Walks {
        v4: walk(dns, &walk_from(false)).await,
        v6: walk(dns, &walk_from(true)).await,
    }
}

/// The include: present and effective, missing (with the minimal edit), or present but without
/// effect (with the repair). Returns whether the suggestion adds a lookup.
fn include_findings(report: &mut TenantSpfReport, text: &str) -> bool {
    let host = report.include_host.clone();
    let domain = report.domain.clone();
    let change = |edit: &Edit| {
        let mut fix = format!(
            "Change the TXT record at {domain} to \"{}\": {}; everything else stays as it is.",
            edit.record, edit.description
        );
        let strings = split_strings(&edit.record);
        if strings.len() > 1 {
            fix.push_str(&format!(
                " The value is longer than 255 characters, so publish it as {} strings: {}.",
                strings.len(),
                strings
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        fix
    };
    if !edit::has_include(text, &host) {
        let edit = edit::add_include(text, &host);
        report.findings.push(Finding::error(
            "spf.include_missing",
            format!("the record does not include {host}"),
            format!("\"include:{host}\" before the \"all\" term"),
            change(&edit),
        ));
        report.suggested = Some(SuggestedRecord::new(&domain, edit.record));
        return true;
    }
    match edit::repair_include(text, &host) {
        Some(edit) => {
            report.findings.push(Finding::error(
                "spf.include_ineffective",
                format!("the record names {host}, but the include cannot give pass"),
                format!("\"include:{host}\" without qualifier, before the \"all\" term"),
                change(&edit),
            ));
            report.suggested = Some(SuggestedRecord::new(&domain, edit.record));
        }
        None => report.findings.push(Finding::ok(
            "spf.include",
            format!("the record includes {host}"),
            format!("\"include:{host}\" in the record"),
        )),
    }
    false
}

/// What the record's own terms say about unlisted senders: `+all`, `?all`, or no `all`.
fn lint_record(findings: &mut Vec<Finding>, record: &Record) {
    let all = record
        .directives
        .iter()
        .find(|directive| directive.mechanism == Mechanism::All);
    match all.map(|directive| (directive.qualifier, &directive.text)) {
        Some((Qualifier::Pass, term)) => findings.push(Finding::error(
            "spf.all_permissive",
            format!("\"{term}\": every server on the Internet may send as this domain"),
            "\"~all\" or \"-all\"",
            format!("Replace \"{term}\" by \"~all\" (or \"-all\" once every sender is listed)."),
        )),
        Some((Qualifier::Neutral, term)) => findings.push(Finding::warning(
            "spf.all_permissive",
            format!("\"{term}\": receivers learn nothing about servers the record does not list"),
            "\"~all\" or \"-all\"",
            format!("Replace \"{term}\" by \"~all\" (or \"-all\" once every sender is listed)."),
        )),
        Some((_, term)) => findings.push(Finding::ok(
            "spf.all",
            format!("\"{term}\""),
            "\"~all\" or \"-all\"",
        )),
        None if record.redirect.is_none() => findings.push(Finding::warning(
            "spf.all_missing",
            "no \"all\" term: servers the record does not list get neutral",
            "\"~all\" or \"-all\" at the end",
            "End the record with \"~all\" (or \"-all\" once every sender is listed).",
        )),
        None => {}
    }
}

/// The record walked for an IPv4 and for an IPv6 sender.
struct Walks {
    v4: SpfOutcome,
    v6: SpfOutcome,
}

impl Walks {
    /// The walk with the larger `metric`, and which senders it applies to when they differ.
    fn worst(&self, metric: impl Fn(&SpfOutcome) -> usize) -> (&SpfOutcome, &'static str) {
        match metric(&self.v6).cmp(&metric(&self.v4)) {
            Ordering::Greater => (&self.v6, " for IPv6 senders"),
            Ordering::Less => (&self.v4, " for IPv4 senders"),
            Ordering::Equal => (&self.v4, ""),
        }
    }
}

/// Findings from the walks: lookup counts against the limits, `ptr` anywhere, and any other
/// error on the way.
fn walk_findings(findings: &mut Vec<Finding>, walks: &Walks, adds_lookup: bool, host: &str) {
    let mut ptr_terms = Vec::new();
    for step in [&walks.v4, &walks.v6].iter().flat_map(|walk| &walk.trace) {
        let term = (&step.domain, &step.text);
        if step.kind == StepKind::Mechanism && is_ptr(&step.text) && !ptr_terms.contains(&term) {
            ptr_terms.push(term);
        }
    }
    for (domain, text) in ptr_terms {
        findings.push(Finding::warning(
            "spf.ptr",
            format!("\"{text}\" in the SPF record of {domain}"),
            "no ptr mechanism: RFC 7208 section 5.5 says not to use it; it is slow, and some \
             receivers skip it",
            format!(
                "Replace \"{text}\" by ip4:/ip6: ranges or a:/mx: terms for the servers it \
                 stands for."
            ),
        ));
    }
    findings.push(lookups_finding(walks, adds_lookup, host));
    findings.push(void_finding(walks));

    for walk in [&walks.v4, &walks.v6] {
        let limit = walk.lookups > MAX_LOOKUPS || walk.void_lookups > MAX_VOID_LOOKUPS;
        if !matches!(walk.result, SpfResult::PermError | SpfResult::TempError) || limit {
            continue;
        }
        findings.push(Finding::error(
            "spf.evaluation_error",
            format!(
                "evaluating the record ends in {}: {}",
                walk.result, walk.reason
            ),
            "an evaluation without errors for every sender",
            match walk.result {
                SpfResult::TempError => {
                    "Try again later; if it persists, the DNS of the domain named needs attention."
                        .to_owned()
                }
                _ => format!("Correct the record named: {}.", walk.reason),
            },
        ));
        // Both walks stop at the same error; one finding says it.
        break;
    }
}

fn lookups_finding(walks: &Walks, adds_lookup: bool, host: &str) -> Finding {
    let (walk, senders) = walks.worst(|walk| walk.lookups);
    let expected = "at most 10 DNS lookups (RFC 7208 section 4.6.4)";
    let reduce = "Replace a:, mx: and include: terms by ip4:/ip6: ranges where possible, and \
                  remove includes of services no longer used; the lookups of included records \
                  count too.";
    if walk.lookups > MAX_LOOKUPS {
        let stopped = walk
            .trace
            .iter()
            .rev()
            .find(|step| step.counts_lookup)
            .map(|step| format!(" at \"{}\" in the record of {}", step.text, step.domain))
            .unwrap_or_default();
        return Finding::error(
            "spf.lookups",
            format!("more than 10 DNS lookups{senders}: receivers stop with permerror{stopped}"),
            expected,
            reduce,
        );
    }
    let with_include = walk.lookups + usize::from(adds_lookup);
    let found = match adds_lookup {
        true => format!(
            "{} now, {with_include} with include:{host}{senders}",
            plural(walk.lookups, "DNS lookup")
        ),
        false => format!("{}{senders}", plural(walk.lookups, "DNS lookup")),
    };
    match with_include > MAX_LOOKUPS {
        true => Finding::error("spf.lookups", found, expected, reduce),
        false => Finding::ok("spf.lookups", found, expected),
    }
}

fn void_finding(walks: &Walks) -> Finding {
    let (walk, senders) = walks.worst(|walk| walk.void_lookups);
    let void: Vec<String> = walk
        .trace
        .iter()
        .filter(|step| step.kind == StepKind::Mechanism)
        .flat_map(|step| {
            step.queries
                .iter()
                .filter(|query| query.void)
                .map(move |query| {
                    format!("\"{}\" ({} {})", step.text, query.record_type, query.name)
                })
        })
        .collect();
    let remove = format!(
        "Remove or correct the terms whose names have no records of the type asked for: {}.",
        void.join(", ")
    );
    match walk.void_lookups {
        0 => Finding::ok(
            "spf.void_lookups",
            "no void lookups",
            "at most 2 void lookups",
        ),
        count if count <= MAX_VOID_LOOKUPS => Finding::warning(
            "spf.void_lookups",
            format!(
                "{}{senders}: {}",
                plural(count, "void lookup"),
                void.join(", ")
            ),
            "no lookups of names without records; a third makes every check permerror",
            remove,
        ),
        _ => Finding::error(
            "spf.void_lookups",
            format!("more than 2 void lookups{senders}: {}", void.join(", ")),
            "at most 2 void lookups (RFC 7208 section 4.6.4); receivers stop with permerror",
            remove,
        ),
    }
}

fn plural(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

/// One finding per address checked: pass, or what it got and why.
fn address_findings(report: &mut TenantSpfReport) {
    for check in &report.addresses {
        let outcome = &check.outcome;
        let finding = match outcome.result {
            SpfResult::Pass => Finding::ok(
                "spf.address",
                format!(
                    "{} (platform network {}): pass",
                    check.address, check.network
                ),
                "pass",
            ),
            result => Finding::error(
                "spf.address",
                format!(
                    "{} (platform network {}): {result}: {}",
                    check.address, check.network, outcome.reason
                ),
                "pass",
                match &report.suggested {
                    Some(suggested) => {
                        format!("Publish \"{}\" at {}.", suggested.value, suggested.name)
                    }
                    None => format!("Correct what the evaluation stops at: {}.", outcome.reason),
                },
            ),
        };
        report.findings.push(finding);
    }
}

/// Strings that a person meant to separate by a space but that receivers join without one
/// (RFC 7208 section 3.3): a string ending in a complete term followed by one starting with one.
fn glued_strings(findings: &mut Vec<Finding>, strings: &[Vec<u8>]) {
    let intended = strings
        .first()
        .is_some_and(|first| first.len() >= 6 && first[..6].eq_ignore_ascii_case(b"v=spf1"));
    if !intended {
        return;
    }
    for pair in strings.windows(2) {
        let (left, right) = (lossy(&pair[0]), lossy(&pair[1]));
        let last = left.rsplit(' ').next().unwrap_or_default();
        let first = right.split(' ').next().unwrap_or_default();
        if last.is_empty() || first.is_empty() || !is_term(last) || !is_term(first) {
            continue;
        }
        findings.push(Finding::error(
            "spf.strings_joined",
            format!(
                "the strings \"{left}\" and \"{right}\" are joined without a space into \
                 \"{last}{first}\""
            ),
            "a space between terms; receivers join the strings of a record without adding one \
             (RFC 7208 section 3.3)",
            format!("Add a space at the end of the string \"{left}\"."),
        ));
    }
}

/// Whether `token` alone is the version section or a valid term.
fn is_term(token: &str) -> bool {
    token.eq_ignore_ascii_case("v=spf1")
        || parse::parse(format!("v=spf1 {token}").as_bytes()).is_ok()
}

fn is_ptr(term: &str) -> bool {
    let term = term
        .strip_prefix(['+', '-', '~', '?'])
        .unwrap_or(term)
        .to_ascii_lowercase();
    term == "ptr" || term.starts_with("ptr:")
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
