//! From a delivery's report to what the store records: the queue's policy applied to each
//! recipient's outcome, then the outcomes committed under their leases and counted.

use sealpost_delivery::{Cause, Deferral, DeliveryReport, FailureKind, RecipientResult};
use sealpost_domain::{AttemptId, AttemptResult, QueuedMessage, RecipientState, Timestamp};
use sealpost_retry_policy::{AttemptOutcome, after_attempt};
use sealpost_store::{AttemptRecord, Claim, RecipientUpdate};

use super::Delivery;
use crate::ServiceError;

/// An outcome ready to be recorded: what the store needs, and the message's acceptance time
/// for the latency figure.
#[derive(Debug)]
pub(super) struct Record {
    claim: Claim,
    update: RecipientUpdate,
    attempt: AttemptRecord,
    accepted_at: Timestamp,
}

impl Record {
    /// When a message deferred by its destination's shaping is tried again. A busy destination
    /// (every connection in use, or the rate spent) takes it as soon as it has room, not at the
    /// retry schedule's next step, since no receiver refused anything. A throttled one is not
    /// tried before it has rested, however soon the schedule would try again.
    fn after_deferral(&mut self, deferral: &Deferral) {
        let Some(next) = self.update.next_attempt_at else {
            return;
        };
        let seconds = i64::try_from(deferral.rest().as_secs()).unwrap_or(i64::MAX);
        let rested = self.attempt.finished_at.0.saturating_add(seconds.max(1));
        self.update.next_attempt_at = Some(Timestamp(match deferral {
            Deferral::Busy { .. } => rested,
            Deferral::Throttled { .. } => next.0.max(rested),
        }));
    }
}

/// The queue's view of a failure decided here rather than by a server: the cause says whether
/// it is temporary or permanent, as it does for the server's replies.
pub(super) fn outcome_of_cause(cause: &Cause) -> AttemptOutcome {
    let reply = cause.to_string();
    match cause.kind() {
        FailureKind::Temporary => AttemptOutcome::Temporary { reply },
        FailureKind::Permanent => AttemptOutcome::Permanent { reply },
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

impl Delivery {
    pub(super) fn records_of_report(
        &self,
        message: &QueuedMessage,
        claims: &[Claim],
        started: Timestamp,
        report: &DeliveryReport,
    ) -> Vec<Record> {
        claims
            .iter()
            .map(|claim| {
                let reported = report
                    .outcomes
                    .iter()
                    .find(|outcome| outcome.recipient == claim.address);
                let outcome = reported.map_or_else(
                    || outcome_of_cause(&Cause::NotReported),
                    |outcome| attempt_outcome(&outcome.result),
                );
                let deferral = reported
                    .and_then(|outcome| outcome.failure())
                    .and_then(|failure| match &failure.cause {
                        Cause::Deferred(deferral) => Some(deferral),
                        _ => None,
                    });
                let mut record = self.record(message, claim, started, outcome, report.host.clone());
                if let Some(deferral) = deferral {
                    record.after_deferral(deferral);
                }
                record
            })
            .collect()
    }

    /// Every claim of a transaction ends the same way, for a cause found before any server was
    /// asked.
    pub(super) fn records_all(
        &self,
        message: &QueuedMessage,
        claims: &[Claim],
        started: Timestamp,
        cause: &Cause,
    ) -> Vec<Record> {
        let outcome = outcome_of_cause(cause);
        claims
            .iter()
            .map(|claim| self.record(message, claim, started, outcome.clone(), None))
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
        let clock = &self.clock;
        let now = clock.now();
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
                id: AttemptId::new(clock),
                started_at: started,
                finished_at: now,
                outcome: result,
                reply,
                host,
            },
            accepted_at: message.accepted_at,
        }
    }

    /// Records outcomes under their leases in one transaction, then counts them. On an error
    /// nothing of `records` was recorded, so the caller may offer them again.
    pub(super) async fn commit_records(&self, records: &[Record]) -> Result<(), ServiceError> {
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
        let store = self.store.clone();
        let recorded = self
            .writes
            .run(async move { store.finish_attempts(&batch).await })
            .await?;
        let metrics = &self.metrics;
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
                    metrics.delivered_after(record.attempt.finished_at.0 - record.accepted_at.0);
                    "delivered"
                }
                other => other.after_attempt_label(),
            };
            metrics.count(counter, record.claim.tenant_id);
        }
        Ok(())
    }
}
