//! `sealpost check-message`: the mail tester's analysis of a message file before it is sent
//! (SPEC S7.1, pre-flight): SPF for the given connecting IP, DKIM, DMARC, reverse DNS, headers
//! and content, with a score out of 10 and a fix for every problem.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use sealpost_mail_tester::document::ReportDocument;
use sealpost_mail_tester::{Received, analyse};

use crate::output::Output;

#[derive(Debug, clap::Args)]
pub struct CheckMessage {
    /// The message file, or - for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
    /// The IP address the message would come from (the platform's sending address).
    #[arg(long)]
    ip: IpAddr,
    /// The HELO name the sending server gives.
    #[arg(long)]
    helo: String,
    /// The envelope sender.
    #[arg(long)]
    mail_from: String,
    /// The DNS server to ask, such as 127.0.0.1:5353.
    #[arg(long)]
    nameserver: Option<SocketAddr>,
}

pub async fn check_message(
    command: CheckMessage,
    config: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let (_config, resolver) = super::dns_setup(config, command.nameserver)?;
    let message = super::read_input(&command.file)?;
    let received = Received {
        message: &message,
        client_ip: command.ip,
        helo: &command.helo,
        mail_from: &command.mail_from,
    };
    let report = analyse(&resolver, &received, super::now()).await;
    let view = ReportDocument::from(&report);
    output.print(&view, || report_text(&view));
    Ok(ExitCode::SUCCESS)
}

/// The report as a person reads it: the score, each problem with its fix, then every check.
pub(crate) fn report_text(view: &ReportDocument) -> String {
    let mut text = format!(
        "Score: {:.1}/10 for application mail ({:.1}/10 as a newsletter)\n",
        view.score, view.newsletter_score
    );
    for problem in &view.problems {
        text.push_str(&format!(
            "\n[{}] {} (-{:.1}{}): {}\n    fix: {}\n",
            problem.severity,
            problem.code,
            problem.penalty,
            if problem.matters_for == "newsletters" {
                ", newsletters only"
            } else {
                ""
            },
            problem.found,
            problem.fix
        ));
    }
    text.push_str("\nChecks:\n");
    for check in &view.checks {
        text.push_str(&format!(
            "  {:<7} {}: {}\n",
            check.status, check.name, check.found
        ));
    }
    text.trim_end().to_owned()
}
