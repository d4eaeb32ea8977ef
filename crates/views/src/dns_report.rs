//! A domain's DNS report (SPEC S3.9, S5.3): the API's JSON, the CLI's `--json` output and the
//! domain and troubleshooting pages.

use sealpost_dnsauth::finding::Finding;
use sealpost_dnsauth::report::{DomainReport, Section};
use sealpost_dnsauth::spf::SuggestedRecord;
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DnsReportView {
    pub domain: String,
    /// The worst status of all findings: ok, warning or error.
    pub status: &'static str,
    pub sections: Vec<SectionView>,
    /// How the DKIM record is published, when it was checked: `txt` (the domain's own TXT
    /// record) or `cname_delegation` (a CNAME into the platform's DKIM zone, which serves the
    /// record, so key rotations need no DNS change).
    pub dkim_publication: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SectionView {
    /// spf, dkim, dmarc or mx.
    pub check: &'static str,
    pub status: &'static str,
    pub findings: Vec<FindingView>,
    /// The record to publish, when this check has one to offer.
    pub suggested: Option<RecordView>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FindingView {
    pub status: &'static str,
    /// A stable code such as `spf.include_missing` or `dkim.different_key`.
    pub code: &'static str,
    pub found: String,
    pub expected: String,
    pub fix: Option<String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
            dkim_publication: report.dkim.as_ref().map(|dkim| dkim.publication.code()),
        }
    }
}

impl SectionView {
    /// The check's name as a heading for people.
    pub fn title(&self) -> &'static str {
        match self.check {
            "spf" => "SPF",
            "dkim" => "DKIM record",
            "dmarc" => "DMARC",
            "mx" => "MX (bounces and replies)",
            _ => "Other",
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
