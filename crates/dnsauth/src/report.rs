//! One report for a tenant domain (SPEC S5.3, `sealpost dns check`): SPF for the platform's
//! addresses, the DKIM record against our key, DMARC with the alignment Sealpost's mail will
//! have, and MX, each as findings with what was found, what was expected and the fix.

use sealpost_dns::Resolver;
use sealpost_domain::Timestamp;

use crate::dkim_record::{DkimPublication, DkimRecordCause, DkimRecordCheck, check_dkim_record};
use crate::dmarc::{DmarcCheck, DmarcFound, Policy, check_dmarc};
use crate::finding::{Finding, Status};
use crate::mx::{MxCause, MxCheck, check_mx};
use crate::spf::{Network, SuggestedRecord, TenantSpfReport, check_tenant_spf};

/// The platform's SPF facts from the operator's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpf {
    pub include_host: String,
    pub networks: Vec<Network>,
}

/// What to check.
#[derive(Debug, Clone, Copy)]
pub struct DomainCheckRequest<'a> {
    pub domain: &'a str,
    /// The DKIM selector; without it the DKIM record is not checked.
    pub selector: Option<&'a str>,
    /// Our public key (SubjectPublicKeyInfo DER) to compare the DKIM record with.
    pub public_key_der: Option<&'a [u8]>,
    /// The envelope sender's domain; by default the domain itself, as Sealpost signs only when
    /// the MAIL FROM domain is a signing domain too.
    pub mail_from_domain: Option<&'a str>,
    /// Without it the SPF section says that the platform is not configured.
    pub platform: Option<&'a PlatformSpf>,
    /// The name in Sealpost's DKIM zone that a CNAME at the DKIM record's name must point at
    /// for delegation (SPEC S11.4); `None` when the platform serves no zone.
    pub delegated_name: Option<&'a str>,
}

/// One area of the report with its findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `spf`, `dkim`, `dmarc` or `mx`.
    pub check: &'static str,
    pub findings: Vec<Finding>,
    /// A record to publish, when the section has one to offer.
    pub suggested: Option<SuggestedRecord>,
}

impl Section {
    pub fn status(&self) -> Status {
        worst(&self.findings)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainReport {
    pub domain: String,
    pub sections: Vec<Section>,
    /// The checks the findings come from, for callers that need more than findings.
    pub spf: Option<TenantSpfReport>,
    pub dkim: Option<DkimRecordCheck>,
    pub dmarc: DmarcCheck,
    pub mx: MxCheck,
}

impl DomainReport {
    /// The worst status of all findings.
    pub fn status(&self) -> Status {
        self.sections
            .iter()
            .map(Section::status)
            .max()
            .unwrap_or(Status::Ok)
    }
}

fn worst(findings: &[Finding]) -> Status {
    findings
        .iter()
        .map(|finding| finding.status)
        .max()
        .unwrap_or(Status::Ok)
}

/// Runs every check for the domain. The checks ask different names, so they run concurrently.
pub async fn check_domain(
    resolver: &Resolver,
    request: DomainCheckRequest<'_>,
    now: Timestamp,
) -> DomainReport {
    let domain = request.domain;
    let mail_from_domain = request.mail_from_domain.unwrap_or(domain);
    let spf = async {
        match request.platform {
            Some(platform) => Some(
                check_tenant_spf(
                    resolver,
                    mail_from_domain,
                    &platform.networks,
                    &platform.include_host,
                    now,
                )
                .await,
            ),
            None => None,
        }
    };
    let dkim = async {
        match request.selector {
            Some(selector) => {
                let check =
                    check_dkim_record(resolver, domain, selector, request.public_key_der).await;
                Some(match request.delegated_name {
                    Some(expected) => check.with_delegation(expected),
                    None => check,
                })
            }
            None => None,
        }
    };
    let (spf, dkim, dmarc, mx) = tokio::join!(
        spf,
        dkim,
        check_dmarc(resolver, domain, domain, mail_from_domain),
        check_mx(resolver, mail_from_domain),
    );
    let sections = vec![
        spf_section(spf.as_ref()),
        dkim_section(dkim.as_ref()),
        dmarc_section(&dmarc, dkim.as_ref()),
        Section {
            check: "mx",
            findings: vec![mx_finding(&mx)],
            suggested: None,
        },
    ];
    DomainReport {
        domain: domain.to_owned(),
        sections,
        spf,
        dkim,
        dmarc,
        mx,
    }
}

fn spf_section(spf: Option<&TenantSpfReport>) -> Section {
    match spf {
        Some(report) => Section {
            check: "spf",
            findings: report.findings.clone(),
            suggested: report.suggested.clone(),
        },
        None => Section {
            check: "spf",
            findings: vec![Finding::warning(
                "spf.platform_not_configured",
                "the platform's sending networks or SPF include host are not configured",
                "platform.domain (or platform.spf_include_host) and platform.sending_ips set",
                "Set platform.domain and platform.sending_ips in the configuration, then check \
                 again.",
            )],
            suggested: None,
        },
    }
}

fn dkim_section(dkim: Option<&DkimRecordCheck>) -> Section {
    let Some(check) = dkim else {
        return Section {
            check: "dkim",
            findings: vec![Finding::warning(
                "dkim.no_selector",
                "no DKIM selector given",
                "a selector to check",
                "Give the DKIM selector of the signing domain.",
            )],
            suggested: None,
        };
    };
    let expected = match &check.expected_value {
        Some(value) => format!("a TXT record at {} with {value}", check.name),
        None => format!("a valid RSA key record at {}", check.name),
    };
    let mut found = check.describe();
    if check.publication == DkimPublication::Delegated {
        found.push_str(" (DKIM by CNAME delegation: Sealpost serves the record)");
    } else if !check.cname_chain.is_empty() {
        found.push_str(&format!(
            " (reached through CNAME {})",
            check.cname_chain.join(" -> ")
        ));
    }
    let code = match &check.cause {
        DkimRecordCause::Matches => "dkim.record",
        DkimRecordCause::ValidUncompared => "dkim.record_uncompared",
        DkimRecordCause::NoRecord => "dkim.record_missing",
        DkimRecordCause::DoubledName { .. } => "dkim.doubled_name",
        DkimRecordCause::SeveralRecords(_) => "dkim.records_multiple",
        DkimRecordCause::DifferentKey { .. } => "dkim.different_key",
        DkimRecordCause::Revoked => "dkim.revoked",
        DkimRecordCause::TestingMode => "dkim.testing_mode",
        DkimRecordCause::KeyTypeNotRsa(_) | DkimRecordCause::KeyTypeNotEd25519(_) => {
            "dkim.key_type"
        }
        DkimRecordCause::HashExcludesSha256(_) => "dkim.hash",
        DkimRecordCause::Syntax(_) => "dkim.syntax",
        DkimRecordCause::Dns(_) => "dkim.dns_error",
        DkimRecordCause::WrongDelegation { .. } => "dkim.wrong_delegation",
    };
    let finding = match &check.cause {
        DkimRecordCause::Matches => Finding::ok(code, found, expected),
        DkimRecordCause::ValidUncompared | DkimRecordCause::TestingMode => {
            Finding::warning(code, found, expected, check.fix())
        }
        _ => Finding::error(code, found, expected, check.fix()),
    };
    let suggested = match (&check.cause, &check.expected_value) {
        (DkimRecordCause::Matches, _) | (_, None) => None,
        (_, Some(value)) => Some(SuggestedRecord {
            name: check.name.clone(),
            value: value.clone(),
            strings: crate::spf::split_strings(value),
        }),
    };
    Section {
        check: "dkim",
        findings: vec![finding],
        suggested,
    }
}

/// Whether DNS carries a key that signatures by our `d=` verify with: without it no signature
/// verifies, so DKIM cannot align however well the domains match. `None` when the DKIM record
/// was not checked.
fn dkim_record_usable(dkim: Option<&DkimRecordCheck>) -> Option<bool> {
    dkim.map(|check| {
        matches!(
            check.cause,
            DkimRecordCause::Matches
                | DkimRecordCause::ValidUncompared
                | DkimRecordCause::TestingMode
        )
    })
}

fn dmarc_section(dmarc: &DmarcCheck, dkim: Option<&DkimRecordCheck>) -> Section {
    let expected_record = "one valid DMARC record (v=DMARC1; p=...)";
    let advise = format!(
        "Publish at _dmarc.{}: {}",
        dmarc.from_domain, dmarc.advised_record
    );
    let mut findings = Vec::new();
    match &dmarc.found {
        DmarcFound::Record { name, text, .. } => {
            let policy = dmarc.applied_policy.unwrap_or(Policy::None);
            let found = format!(
                "{name}: {text} (policy for {}: {})",
                dmarc.from_domain,
                policy.as_str()
            );
            findings.push(match policy {
                Policy::None => Finding::warning(
                    "dmarc.policy_none",
                    found,
                    "p=quarantine or p=reject once reports show all mail aligned",
                    "Keep p=none while the aggregate reports (rua=) are read; then move to \
                     p=quarantine. Mail still arrives meanwhile.",
                ),
                _ => Finding::ok("dmarc.record", found, expected_record),
            });
        }
        DmarcFound::None => findings.push(Finding::warning(
            "dmarc.record_missing",
            if dmarc.organizational_domain == dmarc.from_domain {
                format!("no DMARC record at _dmarc.{}", dmarc.from_domain)
            } else {
                format!(
                    "no DMARC record at _dmarc.{} or _dmarc.{}",
                    dmarc.from_domain, dmarc.organizational_domain
                )
            },
            expected_record,
            format!("{advise} (large mailbox providers expect one from bulk senders)."),
        )),
        DmarcFound::Several { name, count } => findings.push(Finding::error(
            "dmarc.records_multiple",
            format!("{count} DMARC records at {name}; receivers then ignore DMARC"),
            expected_record,
            "Delete all but one DMARC record.",
        )),
        DmarcFound::Invalid { name, text, error } => findings.push(Finding::error(
            "dmarc.syntax",
            format!("{name}: {text} ({error})"),
            expected_record,
            advise.clone(),
        )),
        DmarcFound::Dns(error) => findings.push(Finding::error(
            "dmarc.dns_error",
            format!("the DMARC lookup failed: {error}"),
            expected_record,
            "Try again later; ask the DNS provider if it persists.",
        )),
    }
    let enforced = matches!(
        dmarc.applied_policy,
        Some(Policy::Quarantine | Policy::Reject)
    );
    let alignment = |code: &'static str, what: &str, identifier: &str, aligned: bool| {
        let found = format!(
            "{what} {identifier} is {}aligned with the From domain {}",
            if aligned { "" } else { "not " },
            dmarc.from_domain
        );
        let expected = format!("{what} aligned with {}", dmarc.from_domain);
        match (aligned, enforced) {
            (true, _) => Finding::ok(code, found, expected),
            (false, true) => Finding::error(
                code,
                found,
                expected,
                format!("Send with {what} in {}'s own domain.", dmarc.from_domain),
            ),
            (false, false) => Finding::warning(
                code,
                found,
                expected,
                format!("Send with {what} in {}'s own domain.", dmarc.from_domain),
            ),
        }
    };
    findings.push(match dkim_record_usable(dkim) {
        Some(false) if dmarc.dkim_aligned => {
            let found = format!(
                "DKIM d={} matches the From domain {}, but no signature verifies until the DKIM \
                 record is published, so DKIM does not align yet",
                dmarc.dkim_domain, dmarc.from_domain
            );
            let expected = format!("DKIM d= aligned with {}", dmarc.from_domain);
            let fix = "Publish the DKIM record (see the DKIM section).";
            match enforced {
                true => Finding::error("dmarc.dkim_alignment", found, expected, fix),
                false => Finding::warning("dmarc.dkim_alignment", found, expected, fix),
            }
        }
        _ => alignment(
            "dmarc.dkim_alignment",
            "DKIM d=",
            &dmarc.dkim_domain,
            dmarc.dkim_aligned,
        ),
    });
    findings.push(alignment(
        "dmarc.spf_alignment",
        "MAIL FROM",
        &dmarc.mail_from_domain,
        dmarc.spf_aligned,
    ));
    let suggested = (dmarc.advised_record.as_str()
        != match &dmarc.found {
            DmarcFound::Record { text, .. } => text.as_str(),
            _ => "",
        })
    .then(|| SuggestedRecord {
        name: format!("_dmarc.{}", dmarc.from_domain),
        value: dmarc.advised_record.clone(),
        strings: crate::spf::split_strings(&dmarc.advised_record),
    });
    Section {
        check: "dmarc",
        findings,
        suggested,
    }
}

fn mx_finding(mx: &MxCheck) -> Finding {
    let expected = format!("an MX record for {}", mx.domain);
    let code = match mx.cause {
        MxCause::Hosts(_) => "mx.record",
        MxCause::NullMx => "mx.null",
        MxCause::ImplicitMx => "mx.implicit",
        MxCause::NoMailHost => "mx.no_mail_host",
        MxCause::NxDomain => "mx.nxdomain",
        MxCause::Dns(_) => "mx.dns_error",
    };
    match mx.cause {
        MxCause::Hosts(_) => Finding::ok(code, mx.describe(), expected),
        MxCause::ImplicitMx => Finding::warning(code, mx.describe(), expected, mx.fix()),
        _ => Finding::error(code, mx.describe(), expected, mx.fix()),
    }
}
