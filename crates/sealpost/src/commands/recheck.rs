//! `sealpost dns recheck [--all | --tenant T]`: the scheduled re-check of signing domains, run
//! by hand (SPEC S11.2), with progress on standard error when it is a terminal and a summary.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;
use sealpost_service::RecheckSettings;
use sealpost_views::signing_domains::RecheckSummaryView;

use crate::output::{Output, Status as ExitStatus};

#[derive(Debug, Args)]
#[group(id = "which", required = true, multiple = false, args = ["all", "tenant"])]
pub struct RecheckArgs {
    /// Every signing domain of every tenant.
    #[arg(long)]
    all: bool,
    /// The signing domains of this tenant (name or id).
    #[arg(long)]
    tenant: Option<String>,
    /// The DNS server to ask, such as 127.0.0.1:5353.
    #[arg(long)]
    nameserver: Option<SocketAddr>,
}

/// Exits 0 when every domain was checked, 1 when some could not be.
pub async fn recheck(
    args: RecheckArgs,
    config: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let (config, resolver) = super::dns_setup(config, args.nameserver)?;
    let service = super::open_service(&config).await?.with_resolver(resolver);
    let tenant = match &args.tenant {
        Some(name) => Some(service.accounts().find_tenant(name).await?.id),
        None => None,
    };
    let terminal = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if terminal {
            eprint!("\rre-checked {done} of {total} domains");
        }
    };
    let summary = service
        .signing_domains()
        .recheck_all(tenant, RecheckSettings::default().limits, &progress)
        .await?;
    if terminal {
        eprintln!();
    }
    let view = RecheckSummaryView::from(&summary);
    output.print(&view, || summary_text(&view));
    Ok(if view.errors.is_empty() {
        ExitStatus::Done
    } else {
        ExitStatus::Problem
    }
    .into())
}

fn summary_text(view: &RecheckSummaryView) -> String {
    let mut text = format!(
        "Re-checked {} signing domains: {} with their records, {} with a record missing or \
         wrong, {} where DNS did not answer, {} without a key.",
        view.checked, view.found, view.missing, view.temporary, view.no_key
    );
    text.push_str(&format!(
        "\nBeside DKIM: {} with an SPF problem, {} with a DMARC problem, {} with a return-path \
         problem.",
        view.spf_problems, view.dmarc_problems, view.return_path_problems
    ));
    for change in &view.changes {
        text.push_str(&format!("\nchanged: {change}"));
    }
    for error in &view.errors {
        text.push_str(&format!("\nnot checked: {error}"));
    }
    text
}
