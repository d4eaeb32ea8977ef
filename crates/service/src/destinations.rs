//! The operator's view of the destinations (SPEC S12): each delivering node publishes what its
//! traffic shaping knows every few seconds, and the view adds the recipients waiting behind
//! each destination, from the queue.

use sealpost_domain::Timestamp;
pub use sealpost_store::DestinationStatus;

use crate::{Delivery, Platform, ServiceError};

/// Published rows older than this belong to a node that stopped; the view leaves them out.
const FRESH_SECONDS: i64 = 60;

/// One node's view of one destination, with the recipients waiting for its domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationReport {
    pub status: DestinationStatus,
    /// Queued or deferred recipients at the domains seen behind the destination.
    pub waiting: i64,
}

impl Platform {
    /// Every destination a node has sent to recently, by name and node.
    pub async fn destinations(&self) -> Result<Vec<DestinationReport>, ServiceError> {
        let since = Timestamp(self.clock.now().0 - FRESH_SECONDS);
        let statuses = self.store.destination_statuses(since).await?;
        let waiting = self.store.waiting_by_domain().await?;
        Ok(statuses
            .into_iter()
            .map(|status| DestinationReport {
                waiting: status
                    .domains
                    .split_whitespace()
                    .filter_map(|domain| waiting.get(domain))
                    .sum(),
                status,
            })
            .collect())
    }
}

impl Delivery {
    /// Publishes this node's destinations under `node`, replacing what it published before.
    pub async fn publish_destinations(&self, node: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let wide = |value: u32| i64::from(value);
        let statuses: Vec<DestinationStatus> = self
            .destinations()
            .into_iter()
            .map(|view| DestinationStatus {
                node: node.to_owned(),
                destination: view.destination,
                connections_in_use: wide(view.connections_in_use),
                connections_allowed: wide(view.limits_now.connections),
                connection_limit: wide(view.limits.connections),
                messages_per_connection: wide(view.limits.messages_per_connection),
                messages_per_minute: wide(view.limits.messages_per_minute),
                throttle_level: wide(view.throttle_level),
                paused_until: view
                    .paused_for
                    .map(|rest| now.0 + i64::try_from(rest.as_secs()).unwrap_or(i64::MAX / 2) + 1),
                last_throttle_reply: view.last_throttle_reply,
                domains: view.domains.join(" "),
                updated_at: now.0,
            })
            .collect();
        Ok(self.store.publish_destinations(node, &statuses).await?)
    }
}
