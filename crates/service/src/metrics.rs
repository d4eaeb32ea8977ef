//! Operational figures for Prometheus (`/metrics`): messages accepted, signed and unsigned, and
//! recipients delivered, deferred, failed and expired per tenant since this process started;
//! delivery latency; and the queue's depth and age, read from the database when scraped so that
//! every node reports the shared queue the same way.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use sealpost_domain::{TenantId, Timestamp};
use sealpost_store::DestinationStatus;

use crate::{Messages, ServiceError};

/// Upper bounds (seconds) of the delivery latency histogram: acceptance to the remote 250.
const LATENCY_BUCKETS: [i64; 9] = [1, 5, 15, 60, 300, 900, 3600, 14_400, 86_400];

#[derive(Debug, Default)]
struct Figures {
    /// (counter name, tenant) -> count.
    counters: BTreeMap<(&'static str, TenantId), u64>,
    latency_buckets: [u64; LATENCY_BUCKETS.len()],
    latency_count: u64,
    latency_sum: i64,
}

/// Counters shared by every clone of the service.
#[derive(Debug, Default, Clone)]
pub(crate) struct Metrics {
    figures: Arc<Mutex<Figures>>,
}

impl Metrics {
    pub(crate) fn count(&self, name: &'static str, tenant: TenantId) {
        let mut figures = self.figures.lock().expect("metrics lock");
        *figures.counters.entry((name, tenant)).or_insert(0) += 1;
    }

    pub(crate) fn delivered_after(&self, seconds: i64) {
        let mut figures = self.figures.lock().expect("metrics lock");
        for (index, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                figures.latency_buckets[index] += 1;
            }
        }
        figures.latency_count += 1;
        figures.latency_sum += seconds;
    }
}

const COUNTERS: [(&str, &str); 11] = [
    ("accepted", "Messages accepted (committed) for delivery."),
    ("signed", "Accepted messages the tenant signed with DKIM."),
    (
        "unsigned",
        "Accepted messages sent unsigned by the tenant, with a recorded reason.",
    ),
    (
        "delivered",
        "Recipients delivered (the remote server answered 250).",
    ),
    (
        "deferred",
        "Recipient attempts that failed temporarily and will be retried.",
    ),
    ("failed", "Recipients that failed for good."),
    ("expired", "Recipients whose retries ran out."),
    (
        "bounced",
        "Bounces received after delivery (hard and soft).",
    ),
    (
        "complained",
        "Spam complaints received from feedback loops.",
    ),
    ("unsubscribed", "One-click and mailto unsubscribes."),
    (
        "paused",
        "Times the reputation guard paused the tenant's sending.",
    ),
];

impl Messages {
    /// The Prometheus text exposition of this node's counters and the shared queue.
    pub async fn metrics_text(&self) -> Result<String, ServiceError> {
        let names: BTreeMap<TenantId, String> = self
            .store
            .list_tenants()
            .await?
            .into_iter()
            .map(|tenant| (tenant.id, tenant.name.as_str().to_owned()))
            .collect();
        let depth = self.store.queue_depth().await?;
        let oldest = self.store.oldest_waiting().await?;
        let now = self.clock.now();
        let statuses = self
            .store
            .destination_statuses(Timestamp(now.0 - 60))
            .await?;
        let figures = self.metrics.figures.lock().expect("metrics lock");
        let mut text = String::new();
        for (name, help) in COUNTERS {
            let _ = writeln!(text, "# HELP sealpost_{name}_total {help}");
            let _ = writeln!(text, "# TYPE sealpost_{name}_total counter");
            for ((counter, tenant), value) in &figures.counters {
                if *counter == name {
                    let label = names
                        .get(tenant)
                        .cloned()
                        .unwrap_or_else(|| tenant.to_string());
                    let _ = writeln!(text, "sealpost_{name}_total{{tenant=\"{label}\"}} {value}");
                }
            }
        }
        text.push_str(
            "# HELP sealpost_delivery_latency_seconds From acceptance to delivery.\n\
             # TYPE sealpost_delivery_latency_seconds histogram\n",
        );
        for (bound, count) in LATENCY_BUCKETS.iter().zip(figures.latency_buckets) {
            let _ = writeln!(
                text,
                "sealpost_delivery_latency_seconds_bucket{{le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            text,
            "sealpost_delivery_latency_seconds_bucket{{le=\"+Inf\"}} {}\n\
             sealpost_delivery_latency_seconds_sum {}\n\
             sealpost_delivery_latency_seconds_count {}",
            figures.latency_count, figures.latency_sum, figures.latency_count
        );
        text.push_str(
            "# HELP sealpost_queue_recipients Recipients in the queue by state.\n\
             # TYPE sealpost_queue_recipients gauge\n",
        );
        for state in ["queued", "sending", "deferred"] {
            let count = depth
                .iter()
                .find(|(name, _)| name == state)
                .map_or(0, |(_, count)| *count);
            let _ = writeln!(
                text,
                "sealpost_queue_recipients{{state=\"{state}\"}} {count}"
            );
        }
        let age = oldest.map_or(0, |accepted| (now.0 - accepted.0).max(0));
        let _ = writeln!(
            text,
            "# HELP sealpost_queue_oldest_seconds Age of the oldest message still waiting.\n\
             # TYPE sealpost_queue_oldest_seconds gauge\nsealpost_queue_oldest_seconds {age}"
        );
        destination_gauges(&mut text, &statuses, now);
        Ok(text)
    }
}

/// What every delivering node published of its destinations in the last minute, by
/// destination and node.
fn destination_gauges(text: &mut String, statuses: &[DestinationStatus], now: Timestamp) {
    type Gauge = (
        &'static str,
        &'static str,
        fn(&DestinationStatus, Timestamp) -> i64,
    );
    let gauges: [Gauge; 4] = [
        (
            "connections",
            "Connections to the destination carrying a message now.",
            |status, _| status.connections_in_use,
        ),
        (
            "connections_allowed",
            "Connections the destination allows now, after backing off.",
            |status, _| status.connections_allowed,
        ),
        (
            "throttle_level",
            "How far the destination backed off (0: not at all).",
            |status, _| status.throttle_level,
        ),
        (
            "paused_seconds",
            "How long the throttled destination still rests.",
            |status, now| {
                status
                    .paused_until
                    .map_or(0, |until| (until - now.0).max(0))
            },
        ),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(text, "# HELP sealpost_destination_{name} {help}");
        let _ = writeln!(text, "# TYPE sealpost_destination_{name} gauge");
        for status in statuses {
            let _ = writeln!(
                text,
                "sealpost_destination_{name}{{destination=\"{}\",node=\"{}\"}} {}",
                label(&status.destination),
                label(&status.node),
                value(status, now)
            );
        }
    }
}

/// A label value as the text exposition format writes it (a configured profile name may hold
/// any character).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
