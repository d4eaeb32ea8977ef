//! Delivering the outbox: each round claims the due rows (the oldest pending one per endpoint and
//! message, under a lease), sends them side by side, and records each answer with the row's next
//! state. A non-2xx answer or no answer is retried with a growing pause until the retry window
//! ends; an endpoint that has not taken a delivery for days is switched off, with the reason
//! shown to the tenant. Every request resolves the endpoint's host and refuses private
//! addresses (unless the operator allows them) right before it connects to the same address.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use sealpost_domain::{Timestamp, is_public_address};
use sealpost_store::{OutboxDelivery, OutboxNext, WebhookAttempt};
use sealpost_webhooks::{Posted, Secret, SendError, Target};

use super::sealing_purpose;
use crate::{ServiceError, Webhooks};

/// Rows claimed per round.
const BATCH: i64 = 100;

/// Seconds to wait after the 1st, 2nd, ... failure; the last repeats.
const BACKOFF: [i64; 10] = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 43_200];

fn backoff(attempts: i32) -> i64 {
    let index = usize::try_from(attempts.max(1) - 1).unwrap_or(0);
    BACKOFF[index.min(BACKOFF.len() - 1)]
}

impl Webhooks {
    /// Sends what is due; returns how many rows were attempted. The round's outcomes are
    /// recorded in one transaction.
    pub async fn deliver_due(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        // Long enough for the request's deadline; a crashed node's rows come back soon after.
        let lease = i64::try_from(self.webhook_policy.timeout.as_secs()).unwrap_or(60) + 5;
        let claimed = self
            .store
            .claim_webhook_deliveries(now, Timestamp(now.0 + lease), BATCH)
            .await?;
        let count = claimed.len();
        let mut sending = tokio::task::JoinSet::new();
        for delivery in claimed {
            let webhooks = self.clone();
            sending.spawn(async move { webhooks.attempt(delivery).await });
        }
        let mut finished = Vec::with_capacity(count);
        while let Some(done) = sending.join_next().await {
            match done {
                Ok(outcome) => finished.push(outcome),
                // The row's lease runs out and it is tried again.
                Err(error) => tracing::warn!(%error, "a webhook delivery task failed"),
            }
        }
        // An endpoint is switched off before its failed rows are recorded, so whoever sees a
        // delivery given up also sees the endpoint off.
        for (delivery, attempt, next) in &finished {
            if *next != OutboxNext::Delivered {
                self.disable_if_dead(delivery, attempt.at, attempt).await?;
            }
        }
        self.store.finish_webhook_deliveries(&finished).await?;
        Ok(count)
    }

    /// Waits until work may be due: a commit on this node, or the next poll.
    pub async fn wait_for_work(&self, poll: std::time::Duration) {
        let _ = tokio::time::timeout(poll, self.webhook_work.notified()).await;
    }

    /// Sends one row and decides its next state.
    async fn attempt(
        &self,
        delivery: OutboxDelivery,
    ) -> (OutboxDelivery, WebhookAttempt, OutboxNext) {
        let started = Instant::now();
        let answer = self.send(&delivery).await;
        let at = self.clock.now();
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let success = answer.as_ref().is_ok_and(Posted::is_success);
        let (status, response, error) = match answer {
            Ok(posted) => (Some(posted.status), posted.excerpt, None),
            Err(error) => (None, String::new(), Some(error)),
        };
        let next = if success {
            OutboxNext::Delivered
        } else if at.0 - delivery.created_at >= self.webhook_policy.retry_window {
            OutboxNext::GiveUp
        } else {
            OutboxNext::RetryAt(Timestamp(at.0 + backoff(delivery.attempts + 1)))
        };
        let attempt = WebhookAttempt {
            id: self.clock.new_uuid(),
            at,
            status,
            latency_ms,
            response,
            error,
        };
        (delivery, attempt, next)
    }

    /// Switches the endpoint off when nothing has been delivered to it for `disable_after`
    /// (counted from its creation when nothing ever was).
    async fn disable_if_dead(
        &self,
        delivery: &OutboxDelivery,
        at: Timestamp,
        attempt: &WebhookAttempt,
    ) -> Result<(), ServiceError> {
        let endpoint = self
            .store
            .webhook_endpoint(delivery.tenant_id, delivery.endpoint_id)
            .await?;
        let since = self
            .store
            .webhook_last_success(delivery.endpoint_id)
            .await?
            .unwrap_or(endpoint.created_at);
        if !endpoint.enabled || at.0 - since.0 < self.webhook_policy.disable_after {
            return Ok(());
        }
        let last = match (attempt.status, &attempt.error) {
            (Some(status), _) => format!("HTTP {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no answer".to_owned(),
        };
        let reason = format!(
            "switched off by the platform: no delivery succeeded since {} (last answer: {last}); \
             events wait and go out when it is switched on again",
            since.rfc3339()
        );
        tracing::warn!(endpoint = %delivery.endpoint_id, %reason, "webhook endpoint disabled");
        self.store
            .disable_webhook_endpoint(delivery.endpoint_id, &reason)
            .await?;
        Ok(())
    }

    /// One request for the row; an `Err` is why no HTTP answer came.
    async fn send(&self, delivery: &OutboxDelivery) -> Result<Posted, String> {
        let target = self.target(&delivery.url).await?;
        let secrets = self
            .secrets(delivery)
            .await
            .map_err(|error| error.to_string())?;
        let id = format!("evt_{}", delivery.id);
        let timestamp = self.clock.now().0;
        let body = payload(delivery);
        let refs: Vec<&Secret> = secrets.iter().collect();
        let headers = [
            ("webhook-id", id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                sealpost_webhooks::sign(&refs, &id, timestamp, &body),
            ),
        ];
        self.webhook_client
            .post(&target, &headers, body, self.webhook_policy.timeout)
            .await
            .map_err(|error: SendError| error.to_string())
    }

    /// The current secret, and the previous one while it still signs.
    async fn secrets(&self, delivery: &OutboxDelivery) -> Result<Vec<Secret>, ServiceError> {
        let sealed = self
            .store
            .webhook_secrets(delivery.tenant_id, delivery.endpoint_id)
            .await?;
        let purpose = sealing_purpose(delivery.endpoint_id);
        let open = |sealed: &[u8]| -> Result<Secret, ServiceError> {
            let text = self
                .vault
                .open_secret(delivery.tenant_id, &purpose, sealed)
                .map_err(|error| ServiceError::Internal(Box::new(error)))?;
            Secret::parse(&text).map_err(|error| ServiceError::Internal(Box::new(error)))
        };
        let mut secrets = vec![open(&sealed.secret_sealed)?];
        let still_signs = sealed
            .previous_until
            .is_some_and(|until| until > self.clock.now().0);
        if let (Some(previous), true) = (&sealed.previous_secret_sealed, still_signs) {
            secrets.push(open(previous)?);
        }
        Ok(secrets)
    }

    /// The URL with the addresses its host has now, each vetted.
    async fn target(&self, url: &str) -> Result<Target, String> {
        let url = url::Url::parse(url).map_err(|error| format!("the URL is not valid: {error}"))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(url::Host::Domain(name)) => self
                .resolver
                .ip(name)
                .await
                .map_err(|error| format!("{name} does not resolve: {error}"))?,
            None => return Err("the URL has no host".to_owned()),
        };
        if let Some(private) = addresses
            .iter()
            .find(|ip| !self.webhook_policy.allow_private && !is_public_address(**ip))
        {
            return Err(format!(
                "the host resolves to {private}, a private or loopback address, which webhooks \
                 may not reach on this platform"
            ));
        }
        Ok(Target {
            url,
            addresses: addresses
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
        })
    }
}

/// The event as JSON: `type`, `timestamp` (when it happened) and `data`, as the Standard
/// Webhooks specification suggests.
fn payload(delivery: &OutboxDelivery) -> Vec<u8> {
    let mut data = serde_json::Map::new();
    data.insert("tenant_id".into(), delivery.tenant_id.to_string().into());
    if let Some(message) = delivery.message_id {
        data.insert("message_id".into(), message.to_string().into());
    }
    if let Some(recipient) = delivery.recipient_id {
        data.insert("recipient_id".into(), recipient.to_string().into());
    }
    if let Some(address) = &delivery.recipient {
        data.insert("recipient".into(), address.clone().into());
    }
    if let Some(domain) = delivery.signing_domain_id {
        data.insert("signing_domain_id".into(), domain.to_string().into());
    }
    data.insert("detail".into(), delivery.detail.clone().into());
    let event = serde_json::json!({
        "type": delivery.event_type,
        "timestamp": Timestamp(delivery.event_at).rfc3339(),
        "data": data,
    });
    serde_json::to_vec(&event).expect("a JSON value serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_grows_and_then_stays_at_twelve_hours() {
        assert_eq!(backoff(1), 5);
        assert_eq!(backoff(2), 30);
        assert_eq!(backoff(10), 43_200);
        assert_eq!(backoff(50), 43_200);
        let total: i64 = (1..=16).map(backoff).sum();
        assert!(total > 86_400, "16 attempts span more than a day: {total}");
    }
}
