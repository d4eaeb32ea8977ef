//! `sealpost troubleshoot`: the support path of SPEC S5 as one command, the same call as the
//! troubleshooting screen: the sender domain, whether the From and MAIL FROM domains are active
//! signing domains of the tenant, the DKIM record, SPF and DMARC with fixes, and with
//! `--send-test` a test mailing through the normal path whose report is awaited.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sealpost_dnsauth::finding::Status;
use sealpost_views::mail_tester::CheckerReportView;
use sealpost_views::troubleshoot::{StandingView, TroubleshootView};
use serde::Serialize;

use crate::output::{Output, Status as ExitStatus};

#[derive(Debug, clap::Args)]
pub struct Troubleshoot {
    /// The sender address to check, such as noreply@client.example.
    sender: String,
    /// The tenant (name or id).
    #[arg(long)]
    tenant: String,
    /// The envelope sender, when it differs from the sender address.
    #[arg(long)]
    mail_from: Option<String>,
    /// Also send a test mailing to the mail tester and wait for its report (S5.4); a running
    /// `sealpost serve` delivers it.
    #[arg(long)]
    send_test: bool,
    /// How long to wait for the test mailing's report, in seconds.
    #[arg(long, default_value_t = 120)]
    wait: u64,
    /// The DNS server to ask, such as 127.0.0.1:5353.
    #[arg(long)]
    nameserver: Option<SocketAddr>,
}

#[derive(Debug, Serialize)]
struct Outcome {
    #[serde(flatten)]
    checks: TroubleshootView,
    test_mailing: Option<TestMailing>,
}

#[derive(Debug, Serialize)]
struct TestMailing {
    address: String,
    message_id: Option<String>,
    /// Absent when the report did not arrive in time.
    report: Option<CheckerReportView>,
}

/// Exits 0 when the sender signs and nothing is an error (and the test mailing's report
/// arrived), 1 otherwise, 2 on input errors.
pub async fn troubleshoot(
    command: Troubleshoot,
    config: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let (config, _resolver) = super::dns_setup(config, command.nameserver)?;
    let service = super::open_service(&config).await?;
    let tenant = service.accounts().find_tenant(&command.tenant).await?;
    let result = service
        .messages()
        .troubleshoot(tenant.id, &command.sender, command.mail_from.as_deref())
        .await?;
    let mut healthy = result.unsigned_reason.is_none() && result.dns.status() != Status::Error;
    let test_mailing = match command.send_test {
        false => None,
        true => {
            let address = service
                .mail_tester()
                .send_test_mailing(tenant.id, &command.sender)
                .await?;
            let deadline = Instant::now() + Duration::from_secs(command.wait);
            let report = loop {
                let reports = service
                    .mail_tester()
                    .checker_reports(tenant.id, Some(&address.token), 1)
                    .await?;
                if let Some(report) = reports.into_iter().next() {
                    break Some(CheckerReportView::from(report));
                }
                if Instant::now() >= deadline {
                    break None;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            };
            healthy &= report.is_some();
            Some(TestMailing {
                address: address.address,
                message_id: address.message_id.map(|id| id.to_string()),
                report,
            })
        }
    };
    let outcome = Outcome {
        checks: TroubleshootView::from(&result),
        test_mailing,
    };
    output.print(&outcome, || text(&outcome));
    Ok(match healthy {
        true => ExitStatus::Done,
        false => ExitStatus::Problem,
    }
    .into())
}

fn standing(view: &StandingView) -> String {
    match view.status {
        "active" => format!(
            "an active signing domain (selector {})",
            view.selector.as_deref().unwrap_or_default()
        ),
        "inactive" if !view.has_key => {
            "a signing domain without a key: generate or import one".to_owned()
        }
        "inactive" => "a signing domain, but not active: activate it".to_owned(),
        _ => "not a signing domain of this tenant: add it".to_owned(),
    }
}

fn text(outcome: &Outcome) -> String {
    let checks = &outcome.checks;
    let mut text = format!(
        "1. Sender domain: {} (sender {})\n2. From domain {}: {}\n   MAIL FROM domain {}: {}\n   {}\n3. ",
        checks.sender_domain,
        checks.sender,
        checks.sender_domain,
        standing(&checks.from_domain),
        checks.mail_from_domain,
        standing(&checks.mail_from_domain_standing),
        match &checks.unsigned_reason {
            None => "Mail from this sender is DKIM-signed by the tenant.".to_owned(),
            Some(reason) => format!("Mail from this sender goes out UNSIGNED: {reason}."),
        },
    );
    text.push_str(&super::dns::report_text(&checks.dns));
    match &outcome.test_mailing {
        None => text.push_str("\n4. Test mailing: not sent (add --send-test)"),
        Some(test) => {
            text.push_str(&format!("\n\n4. Test mailing to {}: ", test.address));
            match &test.report {
                Some(report) => {
                    text.push_str("arrived\n");
                    text.push_str(&super::check::report_text(&report.report));
                }
                None => text.push_str(
                    "no report yet. Is `sealpost serve` running with delivery and the \
                     [checker] listener, and does the checker domain's MX point at it?",
                ),
            }
        }
    }
    text
}
