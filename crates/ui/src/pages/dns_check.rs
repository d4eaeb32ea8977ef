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
    match (errors.is_empty(), warnings.is_empty()) {
        (true, true) => "DNS check: everything is in order.".to_owned(),
        (false, true) => format!("DNS check: errors in {errors}."),
        (true, false) => format!("DNS check: warnings in {warnings}."),
        (false, false) => format!("DNS check: errors in {errors}. Warnings in {warnings}."),
    }
}
