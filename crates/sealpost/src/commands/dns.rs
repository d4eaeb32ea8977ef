//! `sealpost dns check`: everything a sending domain needs published (SPF for the platform's
//! addresses, the DKIM record, DMARC, MX) in one report, against the configured or given DNS
//! server (SPEC S3.9, S5.3, S8.4, S8.5).

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Subcommand;
use sealpost_dnsauth::finding::Status;
use sealpost_dnsauth::report::{DomainCheckRequest, check_domain};
use sealpost_domain::DomainName;
use sealpost_views::dns_report::DnsReportView;

use crate::InputError;
use crate::output::{Output, Status as ExitStatus};

#[derive(Debug, Subcommand)]
pub enum DnsCommand {
    /// Check SPF, the DKIM record, DMARC and MX of a domain. Exits 0 when nothing is an error,
    /// 1 when a finding is an error, 2 on usage or input errors.
    Check {
        domain: String,
        /// The DKIM selector to check; with --tenant, the signing domain's own selector.
        #[arg(long)]
        selector: Option<String>,
        /// Compare the DKIM record with this tenant's key for the domain (reads the database).
        #[arg(long)]
        tenant: Option<String>,
        /// The envelope sender's domain, when it differs from DOMAIN.
        #[arg(long)]
        mail_from_domain: Option<String>,
        /// The DNS server to ask, such as 127.0.0.1:5353.
        #[arg(long)]
        nameserver: Option<SocketAddr>,
    },
    /// Re-check the DKIM records of signing domains now, as the schedule does, and record the
    /// outcome (promotions, retirements, DNS states). Prints a summary.
    Recheck(super::recheck::RecheckArgs),
}

pub async fn dns(
    command: DnsCommand,
    config: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let (domain, selector, tenant, mail_from_domain, nameserver) = match command {
        DnsCommand::Check {
            domain,
            selector,
            tenant,
            mail_from_domain,
            nameserver,
        } => (domain, selector, tenant, mail_from_domain, nameserver),
        DnsCommand::Recheck(args) => return super::recheck::recheck(args, config, output).await,
    };
    let input = |error: &dyn std::fmt::Display| InputError(format!("{error:#}"));
    let (config, resolver) = super::dns_setup(config, nameserver)?;
    let domain = DomainName::parse(&domain).map_err(|error| input(&error))?;
    let mail_from_domain = mail_from_domain
        .map(|text| DomainName::parse(&text).map_err(|error| input(&error)))
        .transpose()?;
    let platform = config
        .platform_spf()
        .map_err(|error| input(&format!("{error:#}")))?;

    // With a tenant, the stored signing domain supplies the selector and the key to compare.
    let (selector, key) = match &tenant {
        Some(tenant) => {
            let service = super::open_service(&config).await?;
            let tenant = service.accounts().find_tenant(tenant).await?;
            let found = service
                .signing_domains()
                .find_signing_domain(tenant.id, domain.as_str(), selector.as_deref())
                .await?;
            let key = found.current_key();
            (
                Some(
                    key.map_or(&found.selector, |key| &key.selector)
                        .as_str()
                        .to_owned(),
                ),
                key.map(|key| key.public_key_der.clone()),
            )
        }
        None => (selector, None),
    };
    let request = DomainCheckRequest {
        domain: domain.as_str(),
        selector: selector.as_deref(),
        public_key_der: key.as_deref(),
        mail_from_domain: mail_from_domain.as_ref().map(DomainName::as_str),
        platform: platform.as_ref(),
        delegated_name: None,
    };
    let report = check_domain(&resolver, request, super::now()).await;
    let view = DnsReportView::from(&report);
    output.print(&view, || report_text(&view));
    Ok(match report.status() {
        Status::Error => ExitStatus::Problem,
        Status::Ok | Status::Warning => ExitStatus::Done,
    }
    .into())
}

/// The report as a person reads it: one block per check, each finding with its fix.
pub(crate) fn report_text(view: &DnsReportView) -> String {
    let mut text = format!("DNS check of {}: {}\n", view.domain, view.status);
    for section in &view.sections {
        text.push_str(&format!(
            "\n{} ({})\n",
            section.check.to_uppercase(),
            section.status
        ));
        for finding in &section.findings {
            text.push_str(&format!(
                "  [{}] {}: {}\n        expected: {}\n",
                finding.status, finding.code, finding.found, finding.expected
            ));
            if let Some(fix) = &finding.fix {
                text.push_str(&format!("        fix: {fix}\n"));
            }
        }
        if let Some(record) = &section.suggested {
            text.push_str(&format!(
                "  publish: {} TXT {}\n",
                record.name, record.value
            ));
        }
    }
    text.trim_end().to_owned()
}
