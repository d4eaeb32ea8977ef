//! The destinations across nodes (SPEC S12): each delivering node publishes what its traffic
//! shaping knows every few seconds. The operator's view adds the recipients waiting behind each
//! destination, from the queue; the other nodes read it to share each destination's limits and
//! to rest wherever one of them was asked to pause.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use sealpost_delivery::{PeerPause, Peers};
use sealpost_domain::Timestamp;
pub use sealpost_store::DestinationStatus;

use crate::{Delivery, Platform, ServiceError};

/// Published rows older than this belong to a node that stopped; the view leaves them out.
const FRESH_SECONDS: i64 = 60;

/// Nodes publish every 5 s; one that has not for this long has stopped delivering, and the
/// others take back its part of the limits.
const PEER_FRESH_SECONDS: i64 = 15;

/// One node's view of one destination, with the recipients waiting for its domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationReport {
    pub status: DestinationStatus,
    /// Queued or deferred recipients at the domains seen behind the destination.
    pub waiting: i64,
    /// The pause another node's receiver asked for, which this node rests through beyond its
    /// own pause, if any (its published row shows its own throttle only).
    pub peer_pause: Option<PeerRest>,
}

/// Another node's pause of a destination, as the node that heeds it sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRest {
    /// The node whose receiver asked for the pause.
    pub node: String,
    pub until: Timestamp,
    /// The receiver's reply that asked for it.
    pub reply: Option<String>,
}

impl Platform {
    /// Every destination a node has sent to recently, by name and node.
    pub async fn destinations(&self) -> Result<Vec<DestinationReport>, ServiceError> {
        let since = Timestamp(self.clock.now().0 - FRESH_SECONDS);
        let statuses = self.store.destination_statuses(since).await?;
        let waiting = self.store.waiting_by_domain().await?;
        let now = self.clock.now();
        let reports = statuses
            .iter()
            .map(|status| DestinationReport {
                waiting: status
                    .domains
                    .split_whitespace()
                    .filter_map(|domain| waiting.get(domain))
                    .sum(),
                peer_pause: peer_pause(&statuses, status, now),
                status: status.clone(),
            })
            .collect();
        Ok(reports)
    }
}

/// The pause of `status`'s destination that its node heeds beyond its own, by the rule
/// [`peers`] applies: the longest that another node published lately (in the last
/// [`PEER_FRESH_SECONDS`]) and that still runs at `now`, the first of equals, when it ends
/// after the node's own. A node that has not published lately reads nothing either.
fn peer_pause(
    statuses: &[DestinationStatus],
    status: &DestinationStatus,
    now: Timestamp,
) -> Option<PeerRest> {
    if status.updated_at < now.0 - PEER_FRESH_SECONDS {
        return None;
    }
    let own = status.paused_until.unwrap_or(i64::MIN);
    statuses
        .iter()
        .filter(|other| {
            other.node != status.node
                && other.destination == status.destination
                && other.updated_at >= now.0 - PEER_FRESH_SECONDS
        })
        .filter_map(|other| Some((other, other.paused_until?)))
        .filter(|(_, until)| *until > now.0 && *until > own)
        .min_by_key(|(_, until)| std::cmp::Reverse(*until))
        .map(|(other, until)| PeerRest {
            node: other.node.clone(),
            until: Timestamp(until),
            reply: other.last_throttle_reply.clone(),
        })
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

    /// Removes what this node published, as it stops: the others take back its part of the
    /// limits at once rather than when its rows grow old.
    pub async fn withdraw_destinations(&self, node: &str) -> Result<(), ServiceError> {
        Ok(self.store.publish_destinations(node, &[]).await?)
    }

    /// Reads what the other nodes published lately and heeds it: this node takes its even part
    /// of every destination's limits, and rests wherever another node's receiver asked for a
    /// pause. A node that has sent nothing yet publishes nothing and is not counted; once it
    /// sends, the others make room for it at their next read.
    pub async fn heed_peers(&self, node: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let statuses = self
            .store
            .destination_statuses(Timestamp(now.0 - PEER_FRESH_SECONDS))
            .await?;
        self.heed_peers_now(peers(&statuses, node, now));
        Ok(())
    }
}

/// The other nodes in `statuses` and how far their receivers throttled each destination: the
/// deepest level, and the longest pause still running at `now` with its reply.
fn peers(statuses: &[DestinationStatus], node: &str, now: Timestamp) -> Peers {
    let others = statuses.iter().filter(|status| status.node != node);
    let nodes: BTreeSet<&str> = others.clone().map(|status| status.node.as_str()).collect();
    let mut pauses: HashMap<String, PeerPause> = HashMap::new();
    for status in others {
        let rest = status
            .paused_until
            .and_then(|until| u64::try_from(until - now.0).ok())
            .map_or(Duration::ZERO, Duration::from_secs);
        let level = u32::try_from(status.throttle_level).unwrap_or(0);
        if level == 0 && rest.is_zero() {
            continue;
        }
        let pause = pauses
            .entry(status.destination.clone())
            .or_insert_with(|| PeerPause {
                level,
                rest,
                reply: status.last_throttle_reply.clone(),
            });
        pause.level = pause.level.max(level);
        if rest > pause.rest {
            pause.rest = rest;
            pause.reply.clone_from(&status.last_throttle_reply);
        }
    }
    Peers {
        nodes: u32::try_from(nodes.len()).unwrap_or(u32::MAX),
        pauses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_store::testing::throttled_destination;

    /// The other nodes are counted once each, never this one; of several throttles of one
    /// destination the deepest level and the longest rest (with its reply) are heeded; a pause
    /// that is over leaves its level, and this node's own throttle and an unthrottled
    /// destination are not heeded.
    #[test]
    fn peers_are_the_other_nodes_and_their_throttles() {
        let now = Timestamp(1_800_000_000);
        let status = |node: &str, destination: &str, level: i64, until: i64, reply: &str| {
            let mut status = throttled_destination(node, destination, now.0 - 2);
            status.throttle_level = level;
            status.paused_until = Some(until);
            status.last_throttle_reply = Some(reply.to_owned());
            status
        };
        let statuses = [
            status("self", "google", 5, now.0 + 90, "own"),
            status("b", "google", 3, now.0 + 20, "short"),
            status("c", "google", 1, now.0 + 40, "long"),
            status("c", "yahoo", 2, now.0, "over"),
            status("d", "microsoft", 0, now.0 - 10, "old"),
        ];
        let peers = peers(&statuses, "self", now);
        assert_eq!(peers.nodes, 3);
        let expected: HashMap<String, PeerPause> = [
            (
                "google".to_owned(),
                PeerPause {
                    level: 3,
                    rest: Duration::from_secs(40),
                    reply: Some("long".to_owned()),
                },
            ),
            (
                "yahoo".to_owned(),
                PeerPause {
                    level: 2,
                    rest: Duration::ZERO,
                    reply: Some("over".to_owned()),
                },
            ),
        ]
        .into();
        assert_eq!(peers.pauses, expected);
    }

    /// A node's row shows the longest pause of its destination that another node published
    /// lately and that outlasts its own, the first of equals; a pause that is over, one of
    /// another destination, one the node's own outlasts and one from a node that stopped
    /// publishing are not shown, and a node that stopped publishing is shown resting for none.
    #[test]
    fn a_row_shows_the_pause_its_node_rests_through_for_another() {
        let now = Timestamp(1_800_000_000);
        let stale = now.0 - PEER_FRESH_SECONDS - 1;
        let status = |node: &str, destination: &str, until: Option<i64>, updated_at: i64| {
            let mut status = throttled_destination(node, destination, updated_at);
            status.paused_until = until;
            status.last_throttle_reply = Some(format!("421 4.7.0 {node}"));
            status
        };
        let statuses = [
            status("a", "google", None, now.0 - 2),
            status("b", "google", Some(now.0 + 20), now.0 - 2),
            status("c", "google", Some(now.0 + 40), now.0 - 3),
            status("d", "google", Some(now.0 + 90), stale),
            status("e", "google", Some(now.0 - 1), now.0 - 1),
            status("s", "google", None, stale),
            status("c", "yahoo", Some(now.0 + 60), now.0 - 3),
            status("a", "yahoo", Some(now.0 + 70), now.0 - 2),
            status("a", "microsoft", None, now.0 - 2),
            status("e", "microsoft", Some(now.0 - 1), now.0 - 1),
            status("a", "outlook", None, now.0 - 2),
            status("g", "outlook", Some(now.0 + 30), now.0 - 2),
            status("h", "outlook", Some(now.0 + 30), now.0 - 2),
        ];
        let shown = |node: &str, destination: &str| {
            let status = statuses
                .iter()
                .find(|status| status.node == node && status.destination == destination)
                .unwrap();
            peer_pause(&statuses, status, now)
                .map(|pause| (pause.node, pause.until.0 - now.0, pause.reply.unwrap()))
        };
        let from =
            |node: &str, rest: i64| Some((node.to_owned(), rest, format!("421 4.7.0 {node}")));
        assert_eq!(shown("a", "google"), from("c", 40));
        assert_eq!(shown("b", "google"), from("c", 40));
        assert_eq!(shown("c", "google"), None);
        assert_eq!(shown("s", "google"), None);
        assert_eq!(shown("c", "yahoo"), from("a", 70));
        assert_eq!(shown("a", "yahoo"), None);
        assert_eq!(shown("a", "microsoft"), None);
        assert_eq!(shown("a", "outlook"), from("g", 30));
    }
}
