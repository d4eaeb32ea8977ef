//! The DNS report of a domain (SPF, DKIM record, DMARC, MX) as the domain page and the
//! troubleshooting page show it: per section a status, each finding with its fix, and the
//! record to publish where the check suggests one.

use sealpost_dnsauth::finding::Status;
use sealpost_dnsauth::report::DomainReport;

pub struct FindingView {
    pub status: &'static str,
    pub code: &'static str,
    pub found: String,
    pub expected: String,
    pub fix: Option<String>,
}

pub struct SuggestedView {
    pub name: String,
    pub value: String,
}

pub struct SectionView {
    pub title: &'static str,
    pub check: &'static str,
    pub status: &'static str,
    pub findings: Vec<FindingView>,
    pub suggested: Option<SuggestedView>,
}

pub struct ReportView {
    pub status: &'static str,
    pub sections: Vec<SectionView>,
}

/// `ok`, `warning` or `error`; also the badge's CSS class.
pub fn status_word(status: Status) -> &'static str {
    status.as_str()
}

fn title(check: &str) -> &'static str {
    match check {
        "spf" => "SPF",
        "dkim" => "DKIM record",
        "dmarc" => "DMARC",
        "mx" => "MX (bounces and replies)",
        _ => "Other",
    }
}

impl From<&DomainReport> for ReportView {
    fn from(report: &DomainReport) -> Self {
        Self {
            status: status_word(report.status()),
            sections: report
                .sections
                .iter()
                .map(|section| SectionView {
                    title: title(section.check),
                    check: section.check,
                    status: status_word(section.status()),
                    findings: section
                        .findings
                        .iter()
                        .map(|finding| FindingView {
                            status: status_word(finding.status),
                            code: finding.code,
                            found: finding.found.clone(),
                            expected: finding.expected.clone(),
                            fix: finding.fix.clone(),
                        })
                        .collect(),
                    suggested: section.suggested.as_ref().map(|record| SuggestedView {
                        name: record.name.clone(),
                        value: record.value.clone(),
                    }),
                })
                .collect(),
        }
    }
}
