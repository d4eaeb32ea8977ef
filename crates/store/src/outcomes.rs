//! Outcomes: each finished attempt is recorded in the history and moves its recipient on, in
//! the same transaction and only under the claim's lease; and the history, read back.

use sealpost_domain::{
    AttemptId, AttemptResult, MessageId, RecipientId, RecipientState, TenantId, Timestamp,
};

use crate::batch::{Event, insert_events, runs};
use crate::claims::Claim;
use crate::rows::corrupt;
use crate::script::{Script, fetch_script, next_statement, run_script};
use crate::{Store, StoreError, with_reader, with_writer};

/// One finished attempt, as it is recorded in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub id: AttemptId,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub outcome: AttemptResult,
    pub reply: String,
    pub host: Option<String>,
}

/// The state a recipient moves to after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientUpdate {
    pub state: RecipientState,
    pub next_attempt_at: Option<Timestamp>,
    pub last_reply: String,
}

/// A past attempt, for the message detail (SPEC S8.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptInfo {
    pub recipient_id: RecipientId,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub outcome: AttemptResult,
    pub reply: String,
    pub host: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    recipient_id: RecipientId,
    started_at: i64,
    finished_at: i64,
    outcome: String,
    reply: String,
    host: Option<String>,
}

/// A message's attempts, oldest first, read through `attempts_tenant_message` (migration 0026).
pub(crate) const MESSAGE_ATTEMPTS_SQL: &str = "SELECT recipient_id, started_at, finished_at, \
     outcome, reply, host FROM attempts WHERE tenant_id = $1 AND message_id = $2 \
     ORDER BY started_at, id";

/// The indexes of `attempts` in layers: the first mention of each recipient in the first, the
/// second in the second, and so on, each layer in the order given.
fn layers(attempts: &[Finished]) -> Vec<Vec<usize>> {
    let mut mentions: std::collections::HashMap<RecipientId, usize> =
        std::collections::HashMap::new();
    let mut layers: Vec<Vec<usize>> = Vec::new();
    for (index, (claim, _, _)) in attempts.iter().enumerate() {
        let mention = mentions.entry(claim.recipient_id).or_default();
        if layers.len() <= *mention {
            layers.push(Vec::new());
        }
        layers[*mention].push(index);
        *mention += 1;
    }
    layers
}

/// One attempt's outcome as a delivery round records it.
type Finished = (Claim, RecipientUpdate, AttemptRecord);

/// Writes the statement that applies a run of fenced recipient updates, each row fenced by its
/// own claim's token, into `$script`. It returns each row updated as a [`Fenced`].
macro_rules! update_fenced {
    ($script:expr, $transaction:expr, $run:expr) => {{
        let run: &[&Finished] = $run;
        let update = next_statement!($script, $transaction);
        update.push(
            "UPDATE recipients SET state = v.column2, attempts = attempts + 1, \
             next_attempt_at = v.column3, last_reply = v.column4, lease_owner = NULL, \
             lease_until = NULL, lease_token = NULL, updated_at = v.column5 FROM (",
        );
        update.push_values(run, |mut row, (claim, update, attempt)| {
            row.push_bind(claim.recipient_id)
                .push_bind(update.state.as_str())
                .push_bind(update.next_attempt_at.map(|at| at.0))
                .push_bind(update.last_reply.clone())
                .push_bind(attempt.finished_at.0)
                .push_bind(claim.tenant_id)
                .push_bind(claim.lease_token.clone());
        });
        update.push(concat!(
            ") AS v WHERE recipients.id = v.column1 AND recipients.tenant_id = v.column6 \
             AND recipients.lease_token = v.column7 AND recipients.state = 'sending' \
             RETURNING recipients.id, recipients.tenant_id, ",
            crate::batch::listening_sql!("recipients.tenant_id")
        ));
    }};
}

/// A recipient a fenced update changed: its id, its tenant, and whether that tenant has a
/// webhook endpoint.
type Fenced = (RecipientId, TenantId, bool);

/// Writes the statement that inserts a run of recorded attempts into the history into `$script`.
macro_rules! insert_attempt_rows {
    ($script:expr, $transaction:expr, $run:expr) => {{
        let run: &[&Finished] = $run;
        let insert = next_statement!($script, $transaction);
        insert.push(
            "INSERT INTO attempts (id, recipient_id, message_id, tenant_id, started_at, \
             finished_at, outcome, reply, host) ",
        );
        insert.push_values(run, |mut row, (claim, _, attempt)| {
            row.push_bind(attempt.id)
                .push_bind(claim.recipient_id)
                .push_bind(claim.message_id)
                .push_bind(claim.tenant_id)
                .push_bind(attempt.started_at.0)
                .push_bind(attempt.finished_at.0)
                .push_bind(attempt.outcome.as_str())
                .push_bind(attempt.reply.clone())
                .push_bind(attempt.host.clone());
        });
    }};
}

/// The events of the recorded attempts: each recipient's state after its attempt.
fn attempt_events<'a>(finished: &[&'a Finished]) -> Vec<Event<'a>> {
    finished
        .iter()
        .map(|(claim, update, attempt)| Event {
            tenant: claim.tenant_id,
            message: claim.message_id,
            recipient: Some(claim.recipient_id),
            kind: update.state.after_attempt_label(),
            detail: &update.last_reply,
            at: attempt.finished_at,
        })
        .collect()
}

impl Store {
    /// The attempts made for a message's recipients, oldest first.
    pub async fn attempts(
        &self,
        tenant: TenantId,
        message: MessageId,
    ) -> Result<Vec<AttemptInfo>, StoreError> {
        let rows: Vec<AttemptRow> = with_reader!(self, pool => {
            sqlx::query_as(MESSAGE_ATTEMPTS_SQL)
            .bind(tenant)
            .bind(message)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(AttemptInfo {
                    recipient_id: row.recipient_id,
                    started_at: Timestamp(row.started_at),
                    finished_at: Timestamp(row.finished_at),
                    outcome: AttemptResult::parse(&row.outcome)
                        .ok_or_else(|| corrupt("attempt outcome", &row.outcome))?,
                    reply: row.reply,
                    host: row.host,
                })
            })
            .collect()
    }

    /// Records an attempt and moves the recipient on, in one transaction, but only while the
    /// claim's lease is still held. Returns false (and records nothing) when another node has
    /// taken the recipient over.
    pub async fn finish_attempt(
        &self,
        claim: &Claim,
        update: &RecipientUpdate,
        attempt: &AttemptRecord,
    ) -> Result<bool, StoreError> {
        let recorded = self
            .finish_attempts(&[(claim.clone(), update.clone(), attempt.clone())])
            .await?;
        Ok(recorded[0])
    }

    /// Records several attempts in one transaction (one durable commit per delivery round).
    /// Each is fenced by its own claim: the result says, per attempt, whether it was recorded.
    /// The fenced updates, the history and the events are each written in statements of many
    /// rows (`batch.rs`).
    pub async fn finish_attempts(&self, attempts: &[Finished]) -> Result<Vec<bool>, StoreError> {
        let mut recorded = vec![false; attempts.len()];
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let mut listening: Vec<TenantId> = Vec::new();
            // Each row is fenced by its own claim's token, and the rows updated come back by
            // recipient. A recipient named twice (claimed again by this node after its lease ran
            // out, both attempts finished in one round) would make that answer ambiguous, so
            // the n-th mention of each recipient goes in the n-th layer, in order.
            for layer in layers(attempts) {
                let rows: Vec<_> = layer.iter().map(|&index| &attempts[index]).collect();
                // On SQLite the layer's updates run as one script; PostgreSQL runs each alone.
                let mut script = Script::new(self);
                let mut fenced: Vec<Fenced> = Vec::with_capacity(rows.len());
                for run in runs(&rows) {
                    update_fenced!(script, transaction, run);
                    if !script.gathers() {
                        fenced.extend(fetch_script!(script, transaction, Fenced)?);
                    }
                }
                fenced.extend(fetch_script!(script, transaction, Fenced)?);
                let mut updated = std::collections::HashSet::with_capacity(fenced.len());
                for (id, tenant, listens) in fenced {
                    updated.insert(id);
                    if listens && !listening.contains(&tenant) {
                        listening.push(tenant);
                    }
                }
                for index in layer {
                    recorded[index] = updated.contains(&attempts[index].0.recipient_id);
                }
            }
            let finished: Vec<&Finished> = attempts
                .iter()
                .zip(&recorded)
                .filter(|(_, recorded)| **recorded)
                .map(|(finished, _)| finished)
                .collect();
            // New history rows and events: on PostgreSQL one statement for up to 8 events.
            let mut script = Script::independent_writes(self);
            for run in runs(&finished) {
                insert_attempt_rows!(script, transaction, run);
            }
            insert_events!(script, transaction, &attempt_events(&finished), &listening);
            run_script!(script, transaction)?;
            transaction.commit().await?;
        });
        Ok(recorded)
    }
}
