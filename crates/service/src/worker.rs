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
    AttemptId, AttemptResult, QueuedMessage, RecipientState, RelaySettings, Route, TenantId,
    Timestamp, TlsMode,
};
use sealpost_domain::EmailAddress;
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
    /// Deliveries (SMTP transactions) in flight at once within a round.
    pub concurrency: usize,
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
            batch: 100,
            concurrency: 32,
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

/// An outcome ready to be recorded: what the store needs, and the message's acceptance time
/// for the latency figure.
#[derive(Debug)]
struct Record {
    claim: Claim,
    update: RecipientUpdate,
    attempt: AttemptRecord,
    accepted_at: Timestamp,
}

/// Adds a finished delivery task's records, or keeps its error; a panicked task counts as an
/// internal error. The records of the other tasks are kept either way.
fn collect(
    finished: Result<Result<Vec<Record>, ServiceError>, tokio::task::JoinError>,
    records: &mut Vec<Record>,
    failure: &mut Option<ServiceError>,
) {
    match finished {
        Ok(Ok(done)) => records.extend(done),
        Ok(Err(error)) => *failure = failure.take().or(Some(error)),
        Err(error) => {
            *failure = failure
                .take()
                .or(Some(ServiceError::Internal(error.to_string())));
        }
    }
}

/// The envelope of a claimed group as the queue holds it. Submission stores only addresses the
/// one address rule accepts, so one refused here is a row written by an older release, and the
/// group fails with the reason instead of going out.
fn stored_envelope(message: &QueuedMessage, claims: &[Claim]) -> Result<Envelope, String> {
    let parse = |text: &str| EmailAddress::parse(text).map_err(|error| error.to_string());
    let mail_from = match message.mail_from.as_str() {
        "" => None,
        text => Some(parse(text)?),
    };
    let recipients = claims
        .iter()
        .map(|claim| parse(&claim.address))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(mail_from.as_ref(), recipients).map_err(|error| error.to_string())
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
        // Groups go out concurrently (each is one SMTP transaction, mostly waiting on the
        // network), at most `concurrency` at a time.
        let mut running = tokio::task::JoinSet::new();
        let mut failure = None;
        let mut records = Vec::with_capacity(claimed);
        for ((tenant, _, domain), group) in groups {
            if running.len() >= settings.concurrency
                && let Some(finished) = running.join_next().await
            {
                collect(finished, &mut records, &mut failure);
                // Outcomes are committed in chunks: fewer durable writes than one each, and a
                // crash repeats at most a chunk plus what was in flight.
                if records.len() >= settings.concurrency {
                    self.commit_records(std::mem::take(&mut records)).await?;
                }
            }
            let service = self.clone();
            let settings = settings.clone();
            running.spawn(async move {
                let message = service.store.message(tenant, group[0].message_id).await?;
                service
                    .deliver_group(&settings, &message, &domain, &group)
                    .await
            });
        }
        while let Some(finished) = running.join_next().await {
            collect(finished, &mut records, &mut failure);
        }
        self.commit_records(records).await?;
        if let Some(error) = failure {
            return Err(error);
        }
        Ok(claimed)
    }

    async fn deliver_group(
        &self,
        settings: &DeliverySettings,
        message: &QueuedMessage,
        domain: &str,
        claims: &[Claim],
    ) -> Result<Vec<Record>, ServiceError> {
        let started = self.clock.now();
        let envelope = stored_envelope(message, claims);
        let report = match (envelope, message.route) {
            (Err(error), _) => {
                let reply = format!("the envelope cannot be sent: {error}");
                let outcome = AttemptOutcome::Permanent { reply };
                return Ok(self.records_all(message, claims, started, &outcome, None));
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
                        let outcome = AttemptOutcome::Permanent { reply };
                        return Ok(self.records_all(message, claims, started, &outcome, None));
                    }
                }
            }
        };
        Ok(self.records_of_report(message, claims, started, &report))
    }

    fn records_of_report(
        &self,
        message: &QueuedMessage,
        claims: &[Claim],
        started: Timestamp,
        report: &DeliveryReport,
    ) -> Vec<Record> {
        claims
            .iter()
            .map(|claim| {
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
            })
            .collect()
    }

    fn records_all(
        &self,
        message: &QueuedMessage,
        claims: &[Claim],
        started: Timestamp,
        outcome: &AttemptOutcome,
        host: Option<String>,
    ) -> Vec<Record> {
        claims
            .iter()
            .map(|claim| self.record(message, claim, started, outcome.clone(), host.clone()))
            .collect()
    }

    /// Applies the queue's policy to one outcome.
    fn record(
        &self,
        message: &QueuedMessage,
        claim: &Claim,
        started: Timestamp,
        outcome: AttemptOutcome,
        host: Option<String>,
    ) -> Record {
        let now = self.clock.now();
        let transition = after_attempt(
            message.route,
            &outcome,
            claim.attempts + 1,
            now,
            message.expires_at,
            &self.retry_policy,
        );
        let (result, reply) = match outcome {
            AttemptOutcome::Delivered { reply } => (AttemptResult::Delivered, reply),
            AttemptOutcome::Temporary { reply } => (AttemptResult::Temporary, reply),
            AttemptOutcome::Permanent { reply } => (AttemptResult::Permanent, reply),
        };
        Record {
            claim: claim.clone(),
            update: RecipientUpdate {
                state: transition.state,
                next_attempt_at: transition.next_attempt_at,
                last_reply: transition.last_reply,
            },
            attempt: AttemptRecord {
                id: AttemptId::new(&self.clock),
                started_at: started,
                finished_at: now,
                outcome: result,
                reply,
                host,
            },
            accepted_at: message.accepted_at,
        }
    }

    /// Records a round's outcomes under their leases in one transaction, then counts them.
    async fn commit_records(&self, records: Vec<Record>) -> Result<(), ServiceError> {
        if records.is_empty() {
            return Ok(());
        }
        let batch: Vec<(Claim, RecipientUpdate, AttemptRecord)> = records
            .iter()
            .map(|record| {
                (
                    record.claim.clone(),
                    record.update.clone(),
                    record.attempt.clone(),
                )
            })
            .collect();
        let recorded = self.store.finish_attempts(&batch).await?;
        for (record, recorded) in records.iter().zip(recorded) {
            if !recorded {
                tracing::warn!(
                    message = %record.claim.message_id,
                    recipient = %record.claim.recipient_id,
                    "the lease was lost before the outcome was recorded; another node owns it now"
                );
                continue;
            }
            // The counter of a sent recipient is "delivered"; the others are named as the
            // recipient's delivery event.
            let counter = match record.update.state {
                RecipientState::Sent => {
                    self.metrics
                        .delivered_after(record.attempt.finished_at.0 - record.accepted_at.0);
                    "delivered"
                }
                other => other.after_attempt_label(),
            };
            self.metrics.count(counter, record.claim.tenant_id);
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
        let (relay, password) = self
            .relay_credentials(tenant)
            .await?
            // A state to change first (switch to the own mail server), not a bad request.
            .ok_or_else(|| {
                ServiceError::Conflict(
                    "mode: the tenant does not use its own mail server".to_owned(),
                )
            })?;
        Ok(test_relay_connection(
            &self.resolver,
            &relay_config(&relay, &password),
            &settings.relay,
        )
        .await)
    }
}
