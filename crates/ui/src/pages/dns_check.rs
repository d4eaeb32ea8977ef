//! The one line that heads a signing domain's page after "Check now", so the outcome of the
//! check is the first thing the person sees, with the full report further down.

use sealpost_views::dns_report::DnsReportView;

/// The notice's CSS class: good, waiting or bad.
pub fn class(report: &DnsReportView) -> &'static str {
    match report.status {
        "ok" => "ok",
        "warning" => "wait",
        _ => "bad",
    }
}

/// `DNS check: everything is in order.` or `DNS check: errors in MX (bounces and replies).
/// Warnings in SPF, DMARC.`
pub fn summary(report: &DnsReportView) -> String {
    let titles = |status: &str| {
        report
            .sections
            .iter()
            .filter(|section| section.status == status)
            .map(|section| section.title())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (errors, warnings) = (titles("error"), titles("warning"));
    let outcome = match (errors.is_empty(), warnings.is_empty()) {
        (true, true) => "DNS check: everything is in order.".to_owned(),
        (false, true) => format!("DNS check: errors in {errors}."),
        (true, false) => format!("DNS check: warnings in {warnings}."),
        (false, false) => format!("DNS check: errors in {errors}. Warnings in {warnings}."),
    };
    match publication(report) {
        Some(mode) => format!("{outcome} {mode}"),
        None => outcome,
    }
}

/// Which way the check found the DKIM record published, as a sentence.
pub fn publication(report: &DnsReportView) -> Option<&'static str> {
    match report.dkim_publication? {
        "cname_delegation" => Some(
            "DKIM by CNAME delegation: Sealpost serves the key record, rotations need no DNS change.",
        ),
        _ => Some("DKIM by TXT record."),
    }
}

#[cfg(test)]
mod tests {
    use sealpost_views::dns_report::{DnsReportView, SectionView};

    use super::{class, summary};

    #[track_caller]
    fn check(sections: &[(&'static str, &'static str)], status: &'static str, expect: [&str; 2]) {
        let report = DnsReportView {
            domain: "client.example".to_owned(),
            status,
            sections: sections
                .iter()
                .map(|&(check, status)| SectionView {
                    check,
                    status,
                    findings: Vec::new(),
                    suggested: None,
                })
                .collect(),
            dkim_publication: None,
        };
        assert_eq!([class(&report), summary(&report).as_str()], expect);
    }

    #[test]
    fn the_line_names_the_way_dkim_is_published() {
        let mut report = DnsReportView {
            domain: "client.example".to_owned(),
            status: "ok",
            sections: Vec::new(),
            dkim_publication: Some("cname_delegation"),
        };
        assert_eq!(
            summary(&report),
            "DNS check: everything is in order. DKIM by CNAME delegation: Sealpost serves the \
             key record, rotations need no DNS change."
        );
        report.dkim_publication = Some("txt");
        assert_eq!(
            summary(&report),
            "DNS check: everything is in order. DKIM by TXT record."
        );
    }

    #[test]
    fn one_line_per_outcome() {
        check(
            &[("spf", "ok"), ("dkim", "ok")],
            "ok",
            ["ok", "DNS check: everything is in order."],
        );
        check(
            &[("spf", "warning"), ("dkim", "ok"), ("dmarc", "warning")],
            "warning",
            ["wait", "DNS check: warnings in SPF, DMARC."],
        );
        check(
            &[("dkim", "error"), ("mx", "error")],
            "error",
            [
                "bad",
                "DNS check: errors in DKIM record, MX (bounces and replies).",
            ],
        );
        check(
            &[("spf", "warning"), ("dkim", "error")],
            "error",
            ["bad", "DNS check: errors in DKIM record. Warnings in SPF."],
        );
    }
}
