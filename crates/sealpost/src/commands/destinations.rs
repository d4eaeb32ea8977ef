//! `sealpost destinations`: every destination the delivering nodes sent to in the last minute,
//! with its connections, limits, throttle state and the recipients waiting for it (SPEC S12).

use sealpost_domain::Timestamp;
use sealpost_service::{DestinationReport, Service};
use serde::Serialize;

use crate::output::Output;

#[derive(Debug, Serialize)]
struct DestinationView {
    destination: String,
    node: String,
    connections_in_use: i64,
    connections_allowed: i64,
    connection_limit: i64,
    messages_per_connection: i64,
    messages_per_minute: i64,
    throttle_level: i64,
    /// RFC 3339, when the destination is resting.
    paused_until: Option<String>,
    last_throttle_reply: Option<String>,
    waiting: i64,
    domains: Vec<String>,
}

impl From<&DestinationReport> for DestinationView {
    fn from(report: &DestinationReport) -> Self {
        let status = &report.status;
        Self {
            destination: status.destination.clone(),
            node: status.node.clone(),
            connections_in_use: status.connections_in_use,
            connections_allowed: status.connections_allowed,
            connection_limit: status.connection_limit,
            messages_per_connection: status.messages_per_connection,
            messages_per_minute: status.messages_per_minute,
            throttle_level: status.throttle_level,
            paused_until: status.paused_until.map(|at| Timestamp(at).rfc3339()),
            last_throttle_reply: status.last_throttle_reply.clone(),
            waiting: report.waiting,
            domains: status
                .domains
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }
    }
}

fn line(view: &DestinationView) -> String {
    let mut text = format!(
        "{} (node {}): {} of {} connections in use (limit {}), {} messages per connection, \
         {} per minute, {} waiting",
        view.destination,
        view.node,
        view.connections_in_use,
        view.connections_allowed,
        view.connection_limit,
        view.messages_per_connection,
        view.messages_per_minute,
        view.waiting
    );
    if view.throttle_level > 0 {
        text.push_str(&format!("\n  backing off, level {}", view.throttle_level));
    }
    if let Some(until) = &view.paused_until {
        text.push_str(&format!("\n  throttled until {until}"));
    }
    if let Some(reply) = &view.last_throttle_reply {
        text.push_str(&format!("\n  last throttling reply: {reply}"));
    }
    text
}

pub async fn destinations(service: &Service, output: Output) -> anyhow::Result<()> {
    let reports = service.platform().destinations().await?;
    let views: Vec<DestinationView> = reports.iter().map(DestinationView::from).collect();
    output.print(&views, || match views.is_empty() {
        true => "No node has sent to any destination in the last minute.".to_owned(),
        false => views.iter().map(line).collect::<Vec<_>>().join("\n"),
    });
    Ok(())
}
