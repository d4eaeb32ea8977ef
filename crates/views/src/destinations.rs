//! The destinations the delivering nodes send to (SPEC S12): the API's JSON, the CLI's output
//! (`sealpost destinations`) and the operator's destinations page, so all three say the same.

use sealpost_domain::Timestamp;
use sealpost_service::{DestinationReport, PeerRest};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// One node's traffic to one destination (a receiving provider or an MX host).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DestinationView {
    /// The provider (`google`, `microsoft`, ...) or the MX host the node delivers to.
    pub destination: String,
    /// The node that published this row.
    pub node: String,
    pub connections_in_use: i64,
    /// Connections allowed now: fewer than the limit while the destination backs off.
    pub connections_allowed: i64,
    pub connection_limit: i64,
    pub messages_per_connection: i64,
    pub messages_per_minute: i64,
    /// 0 when the destination takes mail at full speed; each throttling reply raises it.
    pub throttle_level: i64,
    /// RFC 3339, while the destination rests after a throttling reply.
    pub paused_until: Option<String>,
    /// The receiver's reply that made it back off last.
    pub last_throttle_reply: Option<String>,
    /// A pause that another node's receiver asked for and this node rests through as well,
    /// beyond its own pause: the receiver sees all the nodes as one sender.
    pub peer_pause: Option<PeerPauseView>,
    /// Recipients queued or deferred at the domains seen behind this destination.
    pub waiting: i64,
    /// The recipient domains seen behind this destination.
    pub domains: Vec<String>,
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
            peer_pause: report.peer_pause.as_ref().map(PeerPauseView::from),
            waiting: report.waiting,
            domains: status
                .domains
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Another node's pause of a destination.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PeerPauseView {
    /// The node whose receiver asked for the pause.
    pub node: String,
    /// RFC 3339.
    pub until: String,
    /// The receiver's reply that asked for it.
    pub reply: Option<String>,
}

impl From<&PeerRest> for PeerPauseView {
    fn from(pause: &PeerRest) -> Self {
        Self {
            node: pause.node.clone(),
            until: pause.until.rfc3339(),
            reply: pause.reply.clone(),
        }
    }
}

impl DestinationView {
    /// Whether the destination is backing off or resting: what an operator looks for first.
    pub fn throttled(&self) -> bool {
        self.backing_off() || self.peer_pause.is_some()
    }

    /// Whether this node's own receiver made the destination back off.
    pub fn backing_off(&self) -> bool {
        self.throttle_level > 0 || self.paused_until.is_some()
    }

    /// The destination in a few lines of plain text, as the CLI prints it.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{} (node {}): {} of {} connections in use (limit {}), {} messages per connection, \
             {} per minute, {} waiting",
            self.destination,
            self.node,
            self.connections_in_use,
            self.connections_allowed,
            self.connection_limit,
            self.messages_per_connection,
            self.messages_per_minute,
            self.waiting
        );
        if self.throttle_level > 0 {
            text.push_str(&format!("\n  backing off, level {}", self.throttle_level));
        }
        if let Some(until) = &self.paused_until {
            text.push_str(&format!("\n  throttled until {until}"));
        }
        if let Some(reply) = &self.last_throttle_reply {
            text.push_str(&format!("\n  last throttling reply: {reply}"));
        }
        if let Some(pause) = &self.peer_pause {
            text.push_str(&format!(
                "\n  resting until {} for node {}, whose receiver asked for a pause",
                pause.until, pause.node
            ));
            if let Some(reply) = &pause.reply {
                text.push_str(&format!(": {reply}"));
            }
        }
        text
    }
}

/// The destinations as the API answers them.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DestinationsView {
    /// Every destination a node sent to in the last minute, by destination and node.
    pub destinations: Vec<DestinationView>,
}
