//! One delivery round: claim, read each claimed message once, deliver its transactions
//! concurrently, and record the outcomes in chunks. A failure stops new transactions but never
//! the ones in flight: they are drained and what they concluded is recorded.

use std::collections::BTreeMap;
use std::sync::Arc;

use sealpost_delivery::{Cause, Envelope, deliver_native_shaped, deliver_relay_reusing};
use sealpost_domain::{DomainName, EmailAddress, MessageId, QueuedMessage, Route, Timestamp};
use sealpost_store::Claim;
use tokio::task::{JoinError, JoinSet};

use super::record::Record;
use super::{Delivery, relay_config};
use crate::ServiceError;
use crate::return_path::{VerifiedReturnPaths, verp_return_path};

/// The claims of one SMTP transaction: one message to one destination domain (native), or one
/// message with all its claimed recipients through the tenant's own mail server (relay).
struct Transaction {
    message: Arc<QueuedMessage>,
    claims: Vec<Claim>,
    /// The verified return-path domain its VERP MAIL FROM uses, when it has one.
    return_path: Option<DomainName>,
}

/// What a set of tasks concluded: their records, and the first error among them.
pub(super) struct Concluded<T> {
    pub(super) records: Vec<T>,
    pub(super) failure: Option<ServiceError>,
}

impl<T> Concluded<T> {
    fn new() -> Self {
        Self {
            records: Vec::new(),
            failure: None,
        }
    }

    fn fail(&mut self, error: ServiceError) {
        self.failure = self.failure.take().or(Some(error));
    }

    /// Adds a finished task's records, or keeps its error; a panicked task counts as an
    /// internal error. The records of the other tasks are kept either way.
    pub(super) fn collect(&mut self, finished: Result<Result<Vec<T>, ServiceError>, JoinError>) {
        match finished {
            Ok(Ok(done)) => self.records.extend(done),
            Ok(Err(error)) => self.fail(error),
            Err(error) => self.fail(ServiceError::Internal(error.into())),
        }
    }

    /// Waits for every task still running and collects what it concluded, so a failure
    /// elsewhere neither aborts an SMTP session in flight nor loses its outcome.
    pub(super) async fn drain(&mut self, running: &mut JoinSet<Result<Vec<T>, ServiceError>>)
    where
        T: Send + 'static,
    {
        while let Some(finished) = running.join_next().await {
            self.collect(finished);
        }
    }
}

impl Delivery {
    /// One round of delivery: claims up to a batch of due recipients for `owner` and delivers
    /// them. Returns how many recipients were claimed, so a caller can sleep when it is zero.
    pub async fn deliver_due(&self, owner: &str) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let lease_until = Timestamp(now.0 + self.node.lease_seconds);
        let claims = {
            let (store, owner, batch) = (self.store.clone(), owner.to_owned(), self.node.batch);
            self.writes
                .run(async move { store.claim_due(&owner, now, lease_until, batch).await })
                .await?
        };
        let claimed = claims.len();
        let token = claims.first().map(|claim| claim.lease_token.clone());
        let mut concluded = Concluded::new();
        let work = async {
            let messages = self.read_messages(claims, &mut concluded).await;
            let messages_only = messages.iter().map(|(message, _)| message.as_ref());
            // Without the return paths nothing is sent; the claims return when their lease ends.
            match self.verified_return_paths(messages_only).await {
                Ok(verified) => {
                    self.deliver_all(transactions(messages, &verified), &mut concluded)
                        .await;
                }
                Err(error) => concluded.fail(error),
            }
        };
        match token {
            Some(token) => {
                tokio::select! {
                    () = work => {}
                    () = self.renew_leases(owner, &token) => {}
                }
            }
            None => work.await,
        }
        // A last attempt to record what is known, even after a failed chunk: the store may
        // have recovered, and every outcome is fenced by its lease.
        let recorded = self.commit_records(&concluded.records).await;
        match (concluded.failure, recorded) {
            (Some(error), _) | (None, Err(error)) => Err(error),
            (None, Ok(())) => Ok(claimed),
        }
    }

    /// Renews the round's leases every third of their length for as long as the round runs, so
    /// a slow receiver does not let another node take the same recipients. Never returns.
    async fn renew_leases(&self, owner: &str, token: &str) {
        let seconds = self.node.lease_seconds;
        let third = u64::try_from(seconds.saturating_mul(1000) / 3).unwrap_or(0);
        let period = std::time::Duration::from_millis(third.max(200));
        loop {
            tokio::time::sleep(period).await;
            let until = Timestamp(self.clock.now().0 + seconds);
            if let Err(error) = self.store.renew_claims(owner, token, until).await {
                // The next renewal may succeed; until the lease ends the claims are still ours.
                tracing::warn!(%error, "renewing the delivery round's leases failed");
            }
        }
    }

    /// Reads the claimed messages, bodies included, in one query per 512. A message that is
    /// gone (its tenant was deleted between the claim and this read, SPEC S11.5) has nothing to
    /// deliver; on a failed read the claims return to the queue when their lease ends.
    async fn read_messages(
        &self,
        claims: Vec<Claim>,
        concluded: &mut Concluded<Record>,
    ) -> Vec<(Arc<QueuedMessage>, Vec<Claim>)> {
        let mut by_message: BTreeMap<MessageId, Vec<Claim>> = BTreeMap::new();
        for claim in claims {
            by_message.entry(claim.message_id).or_default().push(claim);
        }
        let ids: Vec<MessageId> = by_message.keys().copied().collect();
        let messages = match self.store.messages_to_deliver(&ids).await {
            Ok(messages) => messages,
            Err(error) => {
                concluded.fail(error.into());
                return Vec::new();
            }
        };
        messages
            .into_iter()
            .filter_map(|message| {
                let claims = by_message.remove(&message.id)?;
                // A claim names its tenant; a message of another tenant is not its message.
                claims
                    .iter()
                    .all(|claim| claim.tenant_id == message.tenant_id)
                    .then(|| (Arc::new(message), claims))
            })
            .collect()
    }

    /// Delivers the transactions concurrently (each mostly waits on the network), at most
    /// `concurrency` at a time, committing outcomes in chunks as they come. After a failure no
    /// new transaction starts; the running ones are drained.
    async fn deliver_all(&self, transactions: Vec<Transaction>, concluded: &mut Concluded<Record>) {
        let mut running = JoinSet::new();
        for transaction in transactions {
            if running.len() >= self.node.concurrency
                && let Some(finished) = running.join_next().await
            {
                concluded.collect(finished);
                // Outcomes are committed in chunks: fewer durable writes than one each, and a
                // crash repeats at most a chunk plus what was in flight.
                if concluded.records.len() >= self.node.concurrency {
                    match self.commit_records(&concluded.records).await {
                        Ok(()) => concluded.records.clear(),
                        Err(error) => concluded.fail(error),
                    }
                }
            }
            if concluded.failure.is_some() {
                break;
            }
            let delivery = self.clone();
            running.spawn(async move { delivery.deliver(&transaction).await });
        }
        concluded.drain(&mut running).await;
    }

    /// One SMTP transaction and the records of its outcomes; with a verified return path, one
    /// transaction per recipient, since each has its own MAIL FROM.
    async fn deliver(&self, transaction: &Transaction) -> Result<Vec<Record>, ServiceError> {
        let Transaction {
            message,
            claims,
            return_path,
        } = transaction;
        let Some(return_path) = return_path else {
            return self.deliver_claims(message, claims, None).await;
        };
        let mut records = Vec::with_capacity(claims.len());
        for claim in claims {
            let mail_from = self.verp_address(return_path, claim);
            let one = std::slice::from_ref(claim);
            records.extend(self.deliver_claims(message, one, Some(mail_from)).await?);
        }
        Ok(records)
    }

    /// The claims' SMTP transaction, with `mail_from` instead of the stored MAIL FROM when given.
    async fn deliver_claims(
        &self,
        message: &QueuedMessage,
        claims: &[Claim],
        mail_from: Option<EmailAddress>,
    ) -> Result<Vec<Record>, ServiceError> {
        let started = self.clock.now();
        let envelope = match stored_envelope(message, claims, mail_from) {
            Ok(envelope) => envelope,
            Err(cause) => return Ok(self.records_all(message, claims, started, &cause)),
        };
        let report = match message.route {
            Route::Native => {
                deliver_native_shaped(
                    &self.resolver,
                    &claims[0].domain,
                    &envelope,
                    &message.raw,
                    &self.node.native,
                    &self.traffic,
                )
                .await
            }
            Route::Relay => match self
                .service()
                .relays()
                .relay_credentials(message.tenant_id)
                .await?
            {
                Some((relay, password)) => {
                    deliver_relay_reusing(
                        &self.resolver,
                        &relay_config(&relay, &password),
                        &envelope,
                        &message.raw,
                        &self.node.relay,
                        &self.traffic,
                    )
                    .await
                }
                None => {
                    let cause = Cause::RelayNotConfigured;
                    return Ok(self.records_all(message, claims, started, &cause));
                }
            },
        };
        Ok(self.records_of_report(message, claims, started, &report))
    }
}

/// Splits each message's claims into transactions: native mail goes out per destination
/// domain, relay mail in one transaction per message.
fn transactions(
    messages: Vec<(Arc<QueuedMessage>, Vec<Claim>)>,
    verified: &VerifiedReturnPaths,
) -> Vec<Transaction> {
    let mut transactions = Vec::new();
    for (message, claims) in messages {
        let return_path = verp_return_path(&message, verified);
        if message.route == Route::Relay {
            transactions.push(Transaction {
                message,
                claims,
                return_path,
            });
            continue;
        }
        let mut by_domain: BTreeMap<String, Vec<Claim>> = BTreeMap::new();
        for claim in claims {
            by_domain
                .entry(claim.domain.clone())
                .or_default()
                .push(claim);
        }
        transactions.extend(by_domain.into_values().map(|claims| Transaction {
            message: Arc::clone(&message),
            claims,
            return_path: return_path.clone(),
        }));
    }
    transactions
}

/// The envelope of a transaction as the queue holds it, or with the VERP `return_path` as MAIL
/// FROM. Submission stores only addresses the
/// one address rule accepts, so one refused here is a row written by an older release, and the
/// transaction fails with the reason instead of going out.
fn stored_envelope(
    message: &QueuedMessage,
    claims: &[Claim],
    return_path: Option<EmailAddress>,
) -> Result<Envelope, Cause> {
    let unsendable = |error: &dyn std::fmt::Display| Cause::EnvelopeUnsendable(error.to_string());
    let parse = |text: &str| EmailAddress::parse(text).map_err(|error| unsendable(&error));
    let mail_from = match (return_path, message.mail_from.as_str()) {
        (Some(address), _) => Some(address),
        (None, "") => None,
        (None, text) => Some(parse(text)?),
    };
    let recipients = claims
        .iter()
        .map(|claim| parse(&claim.address))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(mail_from.as_ref(), recipients).map_err(|error| unsendable(&error))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A failure does not abort the tasks still running: draining waits for each of them and
    /// keeps what it concluded, a panic and an error count as failures, and the first one is
    /// the one reported.
    #[tokio::test]
    async fn draining_keeps_every_outcome_of_the_tasks_in_flight() {
        let mut concluded = Concluded::new();
        concluded.collect(Ok(Err(ServiceError::NotFound("first"))));
        let mut running: JoinSet<Result<Vec<u32>, ServiceError>> = JoinSet::new();
        for value in [1, 2, 3] {
            running.spawn(async move {
                tokio::time::sleep(Duration::from_millis(20 * u64::from(value))).await;
                Ok(vec![value, value * 10])
            });
        }
        running.spawn(async { panic!("a delivery task panicked") });
        concluded.drain(&mut running).await;
        assert!(running.is_empty());
        let mut records = concluded.records;
        records.sort_unstable();
        assert_eq!(records, [1, 2, 3, 10, 20, 30]);
        assert!(matches!(
            concluded.failure,
            Some(ServiceError::NotFound("first"))
        ));
    }

    /// A panicked task is reported as an internal error when it is the first failure.
    #[tokio::test]
    async fn a_panicked_task_is_an_internal_error() {
        let mut running: JoinSet<Result<Vec<u32>, ServiceError>> = JoinSet::new();
        running.spawn(async { panic!("a delivery task panicked") });
        let mut concluded = Concluded::new();
        concluded.drain(&mut running).await;
        assert!(concluded.records.is_empty());
        assert!(matches!(concluded.failure, Some(ServiceError::Internal(_))));
    }

    #[test]
    fn an_error_after_the_first_does_not_replace_it() {
        let mut concluded = Concluded::<u32>::new();
        concluded.collect(Ok(Err(ServiceError::NotFound("first"))));
        concluded.collect(Ok(Ok(vec![7])));
        concluded.collect(Ok(Err(ServiceError::NoKey)));
        assert_eq!(concluded.records, [7]);
        assert!(matches!(
            concluded.failure,
            Some(ServiceError::NotFound("first"))
        ));
    }
}
