//! `sealpost spf check` (RFC 7208 `check_host()` for one connection, with its trace) and
//! `sealpost platform spf-record` (the platform's include record, SPEC S2.1).

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::Subcommand;
use sealpost_dkim::Mailbox;
use sealpost_dnsauth::spf::{
    DnsAnswer, SpfOutcome, SpfRequest, TraceStep, check_host, platform_record, split_strings,
};
use sealpost_domain::{DomainName, Timestamp};
use serde::Serialize;

use crate::InputError;
use crate::config::Config;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum SpfCommand {
    /// Evaluate SPF for a connection (RFC 7208 check_host) and show every term evaluated. Exits
    /// 0 whatever the SPF result, 2 on usage or input errors.
    Check {
        /// The connecting client's IP address.
        #[arg(long)]
        ip: IpAddr,
        /// The MAIL FROM address: local@domain, or a domain alone (checked as
        /// postmaster@domain, RFC 7208 4.3); empty (a bounce) checks the HELO identity.
        #[arg(long, default_value = "")]
        sender: String,
        /// The HELO/EHLO name the client gave.
        #[arg(long)]
        helo: String,
        /// The DNS server to ask, such as 127.0.0.1:5353 (default: configuration, then the
        /// system's resolver).
        #[arg(long)]
        nameserver: Option<SocketAddr>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// Print the TXT record the platform publishes at its SPF include host, from
    /// platform.sending_ips.
    SpfRecord,
}

#[derive(Serialize)]
struct CheckView {
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<String>,
    reason: String,
    domain: String,
    sender: String,
    ip: IpAddr,
    lookups: usize,
    void_lookups: usize,
    trace: Vec<StepView>,
}

#[derive(Serialize)]
struct StepView {
    depth: usize,
    domain: String,
    kind: &'static str,
    /// The term as written, or the record for a record step.
    term: String,
    counts_lookup: bool,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    queries: Vec<QueryView>,
}

#[derive(Serialize)]
struct QueryView {
    #[serde(rename = "type")]
    record_type: &'static str,
    name: String,
    /// `records`, `nxdomain`, `nodata` or `temporary`.
    answer: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    records: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    void: bool,
}

#[derive(Serialize)]
struct RecordView {
    name: String,
    #[serde(rename = "type")]
    record_type: &'static str,
    value: String,
}

pub async fn spf(
    command: SpfCommand,
    config: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    match command {
        SpfCommand::Check {
            ip,
            sender,
            helo,
            nameserver,
        } => {
            check_sender(&sender)?;
            let (_config, resolver) = super::dns_setup(config, nameserver)?;
            let now = super::now().0;
            let request = SpfRequest::mail_from(ip, &sender, &helo, Timestamp(now));
            let outcome = check_host(&resolver, &request).await;
            let view = check_view(&request, &outcome);
            output.print(&view, || check_text(&view));
            // The command ran; the SPF result is in the output, not in the exit status.
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn platform(
    command: PlatformCommand,
    config: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<()> {
    match command {
        PlatformCommand::SpfRecord => {
            let config = Config::load(config).map_err(|error| InputError(format!("{error:#}")))?;
            let name = config.spf_include_host().ok_or_else(|| {
                InputError(
                    "the platform has no SPF include host: set platform.domain (or \
                     platform.spf_include_host)"
                        .to_owned(),
                )
            })?;
            if config.platform.sending_ips.is_empty() {
                return Err(InputError(
                    "platform.sending_ips is empty: list the networks the platform sends from"
                        .to_owned(),
                )
                .into());
            }
            let networks = config
                .sending_networks()
                .map_err(|error| InputError(format!("{error:#}")))?;
            let view = RecordView {
                name,
                record_type: "TXT",
                value: platform_record(&networks),
            };
            output.print(&view, || {
                let mut text = format!(
                    "Publish this TXT record:\nName:  {}\nType:  TXT\nValue: {}",
                    view.name, view.value
                );
                let strings = split_strings(&view.value);
                if strings.len() > 1 {
                    let quoted: Vec<String> = strings.iter().map(|s| format!("\"{s}\"")).collect();
                    text.push_str(&format!(
                        "\nAs strings of at most 255 characters: {}",
                        quoted.join(" ")
                    ));
                }
                text
            });
            Ok(())
        }
    }
}

/// Refuses a `--sender` that `check_host()` would read as nonsense. The forms RFC 7208 reads
/// are an empty reverse-path (a bounce, section 2.4), `local@domain`, and a domain without a
/// local part (section 4.3); angle brackets are allowed around each.
fn check_sender(sender: &str) -> Result<(), InputError> {
    let trimmed = sender.trim();
    let address = trimmed
        .strip_prefix('<')
        .and_then(|inner| inner.strip_suffix('>'))
        .unwrap_or(trimmed);
    let refuse = |reason: String| {
        InputError(format!(
            "--sender {sender:?} is not a sender: {reason}; give local@domain, a domain alone \
             (checked as postmaster@domain), or \"\" for a bounce"
        ))
    };
    match address.rsplit_once('@') {
        _ if address.is_empty() => Ok(()),
        None | Some(("", _)) => {
            let domain = address.trim_start_matches('@');
            match domain.is_empty() {
                true => Err(refuse("it has no domain".to_owned())),
                false => DomainName::parse(domain)
                    .map(drop)
                    .map_err(|error| refuse(format!("the domain is not valid: {error}"))),
            }
        }
        Some(_) => Mailbox::parse(address)
            .map(drop)
            .map_err(|error| refuse(error.to_string())),
    }
}

fn check_view(request: &SpfRequest, outcome: &SpfOutcome) -> CheckView {
    CheckView {
        result: outcome.result.as_str(),
        explanation: outcome.explanation.clone(),
        reason: outcome.reason.clone(),
        domain: request.domain().to_owned(),
        sender: request.sender().to_owned(),
        ip: request.ip(),
        lookups: outcome.lookups,
        void_lookups: outcome.void_lookups,
        trace: outcome.trace.iter().map(step_view).collect(),
    }
}

fn step_view(step: &TraceStep) -> StepView {
    StepView {
        depth: step.depth,
        domain: step.domain.clone(),
        kind: step.kind.as_str(),
        term: step.text.clone(),
        counts_lookup: step.counts_lookup,
        outcome: step.outcome.as_str(),
        detail: step.outcome.detail().map(str::to_owned),
        queries: step
            .queries
            .iter()
            .map(|query| {
                let (answer, records, error) = match &query.answer {
                    DnsAnswer::Records(records) => ("records", records.clone(), None),
                    DnsAnswer::NxDomain => ("nxdomain", Vec::new(), None),
                    DnsAnswer::NoData => ("nodata", Vec::new(), None),
                    DnsAnswer::Temporary(error) => ("temporary", Vec::new(), Some(error.clone())),
                };
                QueryView {
                    record_type: query.record_type,
                    name: query.name.clone(),
                    answer,
                    records,
                    error,
                    void: query.void,
                }
            })
            .collect(),
    }
}

/// The check as a person reads it: the verdict first, then the trace indented by depth.
fn check_text(view: &CheckView) -> String {
    let mut text = format!(
        "SPF: {} ({})\nChecked: domain {}, sender {}, IP {}\n",
        view.result, view.reason, view.domain, view.sender, view.ip
    );
    if let Some(explanation) = &view.explanation {
        text.push_str(&format!("Explanation: {explanation}\n"));
    }
    text.push_str(&format!(
        "DNS lookups: {} of at most 10; void lookups: {} of at most 2\n\nTrace:\n",
        view.lookups, view.void_lookups
    ));
    let mut lookup = 0;
    for step in &view.trace {
        let indent = "  ".repeat(step.depth + 1);
        let counted = match step.counts_lookup {
            true => {
                lookup += 1;
                format!(" [lookup {lookup}]")
            }
            false => String::new(),
        };
        let detail = step
            .detail
            .as_ref()
            .map(|detail| format!(": {detail}"))
            .unwrap_or_default();
        let outcome = step.outcome.replace('_', " ");
        let line = match (step.kind, step.outcome) {
            ("record", "found") => format!("SPF record of {}: \"{}\"", step.domain, step.term),
            ("record", _) => format!("SPF record of {}: {outcome}{detail}", step.domain),
            _ => format!("{}{counted}: {outcome}{detail}", step.term),
        };
        text.push_str(&format!("{indent}{line}\n"));
        for query in &step.queries {
            let answer = match query.answer {
                "records" => query.records.join(" | "),
                "temporary" => format!(
                    "temporary failure ({})",
                    query.error.as_deref().unwrap_or_default()
                ),
                other => other.to_uppercase(),
            };
            let void = if query.void { " (void)" } else { "" };
            text.push_str(&format!(
                "{indent}    {} {} -> {answer}{void}\n",
                query.record_type, query.name
            ));
        }
    }
    text.trim_end().to_owned()
}
