//! SPF: the RFC 7208 conformance suite, `check_host()` and its trace, and the tenant check.

mod check;
mod suite;
mod tenant;

use std::time::Duration;

use sealpost_dns::{Resolver, ResolverConfig};
use sealpost_dnsauth::spf::{DnsAnswer, SpfOutcome};
use sealpost_testdns::TestDns;

/// A resolver that asks `server` every time and gives up on a silent name quickly.
fn resolver(server: &TestDns) -> Resolver {
    Resolver::new(&ResolverConfig {
        nameserver: Some(server.addr()),
        timeout: Duration::from_millis(200),
        attempts: 1,
        cache: false,
    })
    .unwrap()
}

/// The trace as one line per step: indentation for depth, the domain, the term, the outcome,
/// `*` for a step that counts against the lookup limit, and the queries.
fn trace_lines(outcome: &SpfOutcome) -> Vec<String> {
    outcome
        .trace
        .iter()
        .map(|step| {
            let queries: Vec<String> = step
                .queries
                .iter()
                .map(|query| {
                    let answer = match &query.answer {
                        DnsAnswer::Records(records) => records.join(" | "),
                        DnsAnswer::NxDomain => "NXDOMAIN".to_owned(),
                        DnsAnswer::NoData => "NODATA".to_owned(),
                        DnsAnswer::Temporary(_) => "temporary failure".to_owned(),
                    };
                    let void = if query.void { " (void)" } else { "" };
                    format!("{} {} = {answer}{void}", query.record_type, query.name)
                })
                .collect();
            let detail = step
                .outcome
                .detail()
                .map(|detail| format!(" ({detail})"))
                .unwrap_or_default();
            format!(
                "{}{} {}: {} => {}{detail}{} [{}]",
                "  ".repeat(step.depth),
                step.kind.as_str(),
                step.domain,
                step.text,
                step.outcome.as_str(),
                if step.counts_lookup { " *" } else { "" },
                queries.join("; ")
            )
        })
        .collect()
}
