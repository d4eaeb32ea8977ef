//! The records beside DKIM that a re-check looks up (SPEC S11.2): the domain's SPF for the
//! platform, its DMARC policy and, when it has a return-path domain, that domain's MX and SPF.
//! Each lookup is the live DNS check's own (`dnsauth`), read into one outcome: found, missing,
//! wrong, or temporary when DNS did not answer.

use sealpost_dnsauth::dmarc::{DmarcCheck, DmarcFound, check_dmarc};
use sealpost_dnsauth::finding::Status;
use sealpost_dnsauth::mx::{MxCause, MxCheck};
use sealpost_dnsauth::spf::{SpfResult, TenantSpfReport, check_tenant_spf};
use sealpost_domain::{RecordCheck, RecordKind, RecordOutcome, SigningDomain};

use crate::{ServiceError, SigningDomains};

/// How an SPF report reads as one record: an unanswered lookup is temporary; no SPF record is
/// missing; a record the live check finds an error in (the include missing or without effect,
/// several records, a syntax error) is wrong; anything else authorises the platform.
pub(crate) fn spf_outcome(report: &TenantSpfReport) -> (RecordOutcome, String) {
    let unanswered = report
        .findings
        .iter()
        .any(|finding| finding.code == "spf.dns_error")
        || report
            .addresses
            .iter()
            .any(|check| check.outcome.result == SpfResult::TempError);
    let errors: Vec<&str> = report
        .findings
        .iter()
        .filter(|finding| finding.status == Status::Error)
        .map(|finding| finding.found.as_str())
        .collect();
    let outcome = match (unanswered, report.records.is_empty(), report.status()) {
        (true, _, _) => RecordOutcome::Temporary,
        (false, true, _) => RecordOutcome::Missing,
        (false, false, Status::Error) => RecordOutcome::Wrong,
        (false, false, Status::Ok | Status::Warning) => RecordOutcome::Found,
    };
    let detail = match outcome {
        RecordOutcome::Found => format!(
            "\"{}\" authorises the platform",
            report
                .records
                .first()
                .map(|strings| strings.concat())
                .unwrap_or_default()
        ),
        _ => errors.join("; "),
    };
    (outcome, detail)
}

/// How a DMARC check reads as one record: one record that parses is found, whatever its policy.
pub(crate) fn dmarc_outcome(check: &DmarcCheck) -> (RecordOutcome, String) {
    match &check.found {
        DmarcFound::Record { name, text, .. } => (RecordOutcome::Found, format!("{name}: {text}")),
        DmarcFound::None => (
            RecordOutcome::Missing,
            format!("no DMARC record at _dmarc.{}", check.from_domain),
        ),
        DmarcFound::Several { name, count } => (
            RecordOutcome::Wrong,
            format!("{count} DMARC records at {name}; receivers then ignore DMARC"),
        ),
        DmarcFound::Invalid { name, text, error } => {
            (RecordOutcome::Wrong, format!("{name}: {text} ({error})"))
        }
        DmarcFound::Dns(error) => (
            RecordOutcome::Temporary,
            format!("the DMARC lookup failed: {error}"),
        ),
    }
}

/// How an MX check reads as the return-path domain's MX: found when one of its hosts is the
/// platform's inbound host.
pub(crate) fn mx_outcome(check: &MxCheck, inbound: Option<&str>) -> (RecordOutcome, String) {
    match &check.cause {
        MxCause::Hosts(hosts) if hosts.iter().any(|(_, host)| Some(host.as_str()) == inbound) => {
            (RecordOutcome::Found, check.describe())
        }
        MxCause::Hosts(hosts) => (
            RecordOutcome::Wrong,
            format!(
                "the MX hosts are {}, not the platform's inbound host",
                hosts
                    .iter()
                    .map(|(_, host)| host.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        MxCause::Dns(_) => (RecordOutcome::Temporary, check.describe()),
        MxCause::NullMx => (RecordOutcome::Wrong, check.describe()),
        MxCause::ImplicitMx | MxCause::NoMailHost | MxCause::NxDomain => {
            (RecordOutcome::Missing, check.describe())
        }
    }
}

fn record(kind: RecordKind, name: &str, (outcome, detail): (RecordOutcome, String)) -> RecordCheck {
    RecordCheck {
        kind,
        name: name.to_owned(),
        outcome,
        detail,
    }
}

impl SigningDomains {
    /// Looks up the records beside DKIM, side by side. SPF is checked only when the platform's
    /// sending networks are configured (there is nothing to authorise otherwise), and the
    /// return-path records only when the domain has a return-path domain.
    pub(crate) async fn record_checks(
        &self,
        domain: &SigningDomain,
    ) -> Result<Vec<RecordCheck>, ServiceError> {
        let name = domain.domain.as_str();
        let now = self.clock.now();
        let entry = self
            .store
            .return_path(domain.tenant_id, &domain.domain)
            .await?;
        let spf = async {
            match &self.platform {
                Some(platform) => Some(
                    check_tenant_spf(
                        &self.resolver,
                        name,
                        &platform.networks,
                        &platform.include_host,
                        now,
                    )
                    .await,
                ),
                None => None,
            }
        };
        let return_path = async {
            match &entry {
                Some(entry) => {
                    self.service()
                        .feedback()
                        .return_path_record_checks(entry)
                        .await
                }
                None => Vec::new(),
            }
        };
        let (spf, dmarc, return_path) = tokio::join!(
            spf,
            check_dmarc(&self.resolver, name, name, name),
            return_path
        );
        let mut checks = Vec::with_capacity(2 + return_path.len());
        if let Some(report) = spf {
            checks.push(record(RecordKind::Spf, name, spf_outcome(&report)));
        }
        checks.push(record(
            RecordKind::Dmarc,
            &format!("_dmarc.{name}"),
            dmarc_outcome(&dmarc),
        ));
        checks.extend(return_path);
        Ok(checks)
    }
}
