//! Delivering what is due (SPEC S1): claim recipients under a lease, deliver them per message
//! and destination (native) or per message (the tenant's relay), and record each outcome as the
//! queue's pure policy decides, fenced by the lease. Also the relay's "Test connection" (S1.3).

use std::collections::BTreeMap;

use sealpost_delivery::{
    ConnectionTest, DeliveryReport, Envelope, FailureKind, HeloName, NativeOptions, Password,
    RecipientResult, RelayConfig, RelayOptions, TlsMode as RelayTlsMode, deliver_native,
    deliver_relay, test_relay_connection,
};
use sealpost_domain::{
    QueuedMessage, RecipientState, RelaySettings, Route, TenantId, Timestamp, TlsMode,
};
use sealpost_queue::{AttemptOutcome, after_attempt};
use sealpost_store::{AttemptRecord, Claim, RecipientUpdate};
use zeroize::Zeroizing;

use crate::{Service, ServiceError};

/// How this node delivers: its EHLO name, the remote SMTP port (25; tests use a loopback port),
/// leases and batch sizes.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub native: NativeOptions,
    pub relay: RelayOptions,
    /// How long a claim lasts; a node that dies leaves its claims to others after this.
    pub lease_seconds: i64,
    /// Recipients claimed per round.
    pub batch: u32,
}

impl DeliverySettings {
    pub fn new(helo_name: &str) -> Result<Self, ServiceError> {
        let helo = HeloName::new(helo_name).map_err(|error| ServiceError::Invalid {
            field: "helo_name",
            message: error.to_string(),
        })?;
        Ok(Self {
            native: NativeOptions::new(helo.clone()),
            relay: RelayOptions::new(helo),
            lease_seconds: 300,
            batch: 50,
        })
    }
}

fn relay_config(relay: &RelaySettings, password: &Zeroizing<String>) -> RelayConfig {
    RelayConfig {
        host: relay.host.clone(),
        port: relay.port,
        username: relay.username.clone(),
        password: Password::new(password.as_str()),
        implicit_tls: relay.implicit_tls,
        tls_mode: match relay.tls_mode {
            TlsMode::Opportunistic => RelayTlsMode::Opportunistic,
            TlsMode::Required => RelayTlsMode::Required,
            TlsMode::None => RelayTlsMode::None,
        },
    }
}

/// The queue's view of one recipient's result.
fn attempt_outcome(result: &RecipientResult) -> AttemptOutcome {
    match result {
        RecipientResult::Delivered { reply } => AttemptOutcome::Delivered {
            reply: reply.to_string(),
        },
        RecipientResult::Failed { failure } => match failure.kind() {
            FailureKind::Temporary => AttemptOutcome::Temporary {
                reply: failure.to_string(),
            },
            FailureKind::Permanent => AttemptOutcome::Permanent {
                reply: failure.to_string(),
            },
        },
    }
}

impl Service {
    pub fn with_delivery(mut self, settings: DeliverySettings) -> Self {
        self.delivery = Some(settings);
        self
    }

    /// One round of delivery: claims up to a batch of due recipients for `owner` and delivers
    /// them. Returns how many recipients were claimed, so a caller can sleep when it is zero.
    pub async fn deliver_due(&self, owner: &str) -> Result<usize, ServiceError> {
        let settings = self
            .delivery
            .as_ref()
            .ok_or_else(|| ServiceError::Internal("delivery is not configured".into()))?;
        let now = self.clock.now();
        let claims = self
            .store
            .claim_due(
                owner,
                now,
                Timestamp(now.0 + settings.lease_seconds),
                settings.batch,
            )
            .await?;
        let claimed = claims.len();
        // Native mail goes out per destination domain; relay mail in one transaction.
        let mut groups: BTreeMap<(TenantId, String, String), Vec<Claim>> = BTreeMap::new();
        for claim in claims {
            groups
                .entry((
                    claim.tenant_id,
                    claim.message_id.to_string(),
                    claim.domain.clone(),
                ))
                .or_default()
                .push(claim);
        }
        for ((tenant, _, domain), group) in groups {
            let message = self.store.message(tenant, group[0].message_id).await?;
            self.deliver_group(settings, &message, &domain, &group)
                .await?;
        }
        Ok(claimed)
    }

    async fn deliver_group(
        &self,
        settings: &DeliverySettings,
        message: &QueuedMessage,
        domain: &str,
        claims: &[Claim],
    ) -> Result<(), ServiceError> {
        let started = self.clock.now();
        let envelope = Envelope::new(
            message.mail_from.clone(),
            claims.iter().map(|claim| claim.address.clone()),
        );
        let report = match (envelope, message.route) {
            (Err(error), _) => {
                let reply = format!("the envelope cannot be sent: {error}");
                return self
                    .record_all(
                        message,
                        claims,
                        started,
                        AttemptOutcome::Permanent { reply },
                        None,
                    )
                    .await;
            }
            (Ok(envelope), Route::Native) => {
                deliver_native(
                    &self.resolver,
                    domain,
                    &envelope,
                    &message.raw,
                    &settings.native,
                )
                .await
            }
            (Ok(envelope), Route::Relay) => {
                match self.relay_credentials(message.tenant_id).await? {
                    Some((relay, password)) => {
                        deliver_relay(
                            &self.resolver,
                            &relay_config(&relay, &password),
                            &envelope,
                            &message.raw,
                            &settings.relay,
                        )
                        .await
                    }
                    None => {
                        let reply =
                            "the tenant's own mail server is no longer configured".to_owned();
                        return self
                            .record_all(
                                message,
                                claims,
                                started,
                                AttemptOutcome::Permanent { reply },
                                None,
                            )
                            .await;
                    }
                }
            }
        };
        self.record_report(message, claims, started, &report).await
    }

    async fn record_report(
        &self,
        message: &QueuedMessage,
        claims: &[Claim],
        started: Timestamp,
        report: &DeliveryReport,
    ) -> Result<(), ServiceError> {
        for claim in claims {
            let outcome = report
                .outcomes
                .iter()
                .find(|outcome| outcome.recipient == claim.address)
                .map_or_else(
                    || AttemptOutcome::Temporary {
                        reply: "the delivery attempt reported nothing for this recipient"
                            .to_owned(),
                    },
                    |outcome| attempt_outcome(&outcome.result),
                );
            self.record(message, claim, started, outcome, report.host.clone())
                .await?;
        }
        Ok(())
    }

    async fn record_all(
        &self,
        message: &QueuedMessage,
        claims: &[Claim],
        started: Timestamp,
        outcome: AttemptOutcome,
        host: Option<String>,
    ) -> Result<(), ServiceError> {
        for claim in claims {
            self.record(message, claim, started, outcome.clone(), host.clone())
                .await?;
        }
        Ok(())
    }

    /// Applies the queue's policy to one outcome and records it under the claim's lease.
    async fn record(
        &self,
        message: &QueuedMessage,
        claim: &Claim,
        started: Timestamp,
        outcome: AttemptOutcome,
        host: Option<String>,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let transition = after_attempt(
            message.route,
            &outcome,
            claim.attempts + 1,
            now,
            message.expires_at,
            &self.retry_policy,
        );
        let (label, reply) = match outcome {
            AttemptOutcome::Delivered { reply } => ("delivered", reply),
            AttemptOutcome::Temporary { reply } => ("temporary", reply),
            AttemptOutcome::Permanent { reply } => ("permanent", reply),
        };
        let update = RecipientUpdate {
            state: transition.state,
            next_attempt_at: transition.next_attempt_at,
            last_reply: transition.last_reply,
        };
        let attempt = AttemptRecord {
            started_at: started,
            finished_at: now,
            outcome: label,
            reply,
            host,
        };
        let recorded = self.store.finish_attempt(claim, &update, &attempt).await?;
        if recorded {
            let counter = match update.state {
                RecipientState::Sent => {
                    self.metrics.delivered_after(now.0 - message.accepted_at.0);
                    "delivered"
                }
                RecipientState::Deferred => "deferred",
                RecipientState::Expired => "expired",
                _ => "failed",
            };
            self.metrics.count(counter, claim.tenant_id);
        } else {
            tracing::warn!(
                message = %claim.message_id,
                recipient = %claim.recipient_id,
                "the lease was lost before the outcome was recorded; another node owns it now"
            );
        }
        Ok(())
    }

    /// Connects to the tenant's own mail server, negotiates TLS, authenticates and quits, with
    /// a transcript whose secrets are redacted (SPEC S1.3). No mail is sent.
    pub async fn test_relay(&self, tenant: TenantId) -> Result<ConnectionTest, ServiceError> {
        self.tenant(tenant).await?;
        let settings = self
            .delivery
            .as_ref()
            .ok_or_else(|| ServiceError::Internal("delivery is not configured".into()))?;
        let (relay, password) =
            self.relay_credentials(tenant)
                .await?
                .ok_or_else(|| ServiceError::Invalid {
                    field: "mode",
                    message: "the tenant does not use its own mail server".to_owned(),
                })?;
        Ok(test_relay_connection(
            &self.resolver,
            &relay_config(&relay, &password),
            &settings.relay,
        )
        .await)
    }
}
