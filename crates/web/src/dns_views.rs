//! The JSON shape of a domain's DNS report (SPEC S3.9, S5.3), shared by the API and the CLI's
//! `--json` output.

use sealpost_dnsauth::finding::Finding;
use sealpost_dnsauth::report::{DomainReport, Section};
use sealpost_dnsauth::spf::SuggestedRecord;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct DnsReportView {
    pub domain: String,
    /// The worst status of all findings: ok, warning or error.
    pub status: &'static str,
    pub sections: Vec<SectionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionView {
    /// spf, dkim, dmarc or mx.
    pub check: &'static str,
    pub status: &'static str,
    pub findings: Vec<FindingView>,
    /// The record to publish, when this check has one to offer.
    pub suggested: Option<RecordView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub status: &'static str,
    /// A stable code such as `spf.include_missing` or `dkim.different_key`.
    pub code: &'static str,
    pub found: String,
    pub expected: String,
    pub fix: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: &'static str,
    pub value: String,
    /// The value as strings of at most 255 characters.
    pub strings: Vec<String>,
}

impl From<&DomainReport> for DnsReportView {
    fn from(report: &DomainReport) -> Self {
        Self {
            domain: report.domain.clone(),
            status: report.status().as_str(),
            sections: report.sections.iter().map(SectionView::from).collect(),
        }
    }
}

impl From<&Section> for SectionView {
    fn from(section: &Section) -> Self {
        Self {
            check: section.check,
            status: section.status().as_str(),
            findings: section.findings.iter().map(FindingView::from).collect(),
            suggested: section.suggested.as_ref().map(RecordView::from),
        }
    }
}

impl From<&Finding> for FindingView {
    fn from(finding: &Finding) -> Self {
        Self {
            status: finding.status.as_str(),
            code: finding.code,
            found: finding.found.clone(),
            expected: finding.expected.clone(),
            fix: finding.fix.clone(),
        }
    }
}

impl From<&SuggestedRecord> for RecordView {
    fn from(record: &SuggestedRecord) -> Self {
        Self {
            name: record.name.clone(),
            record_type: "TXT",
            value: record.value.clone(),
            strings: record.strings.clone(),
        }
    }
}
