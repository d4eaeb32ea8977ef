//! Accepting messages: a batch of messages, their recipients and their events committed in one
//! transaction before anyone is told they were accepted (SPEC S9.3). Each table gets a few
//! statements of many rows (`batch.rs`), not one statement per message: a batch of 50 messages
//! with one recipient each took 300 round trips to the database. Those statements then run as
//! one script (`script.rs`): on SQLite one hand-off to the writing connection's thread, on
//! PostgreSQL one statement of data-modifying `WITH` clauses.

use sealpost_domain::{QueuedMessage, Recipient, RecipientState, TenantId};

use crate::batch::{Event, insert_events, runs};
use crate::message_rows::SigningColumns;
use crate::script::{MOST_CARRIED_BYTES, Script, next_statement, run_script};
use crate::subjects::subject_of;
use crate::write_transaction::BeginWrite;
use crate::{Store, StoreError, with_writer};

const DUPLICATE: &str = "a message with this idempotency key";

/// A run of messages' sources as statements: the whole run in one while its sources are small
/// together, else one statement per source.
fn source_statements(run: &[QueuedMessage]) -> Vec<&[QueuedMessage]> {
    let bytes: usize = run.iter().map(|message| message.raw.len()).sum();
    if bytes <= MOST_CARRIED_BYTES {
        vec![run]
    } else {
        run.chunks(1).collect()
    }
}

/// A recipient with its message, its place in the fair queue and whether its tenant's sending
/// is paused, which holds it (migration 0037).
struct Placed<'a> {
    message: &'a QueuedMessage,
    position: usize,
    recipient: &'a Recipient,
    fair_key: i64,
    held: bool,
}

/// The batch's events: each suppressed recipient's (a recipient on the tenant's suppression list
/// is accepted already final), then the message's `accepted`.
fn events(messages: &[QueuedMessage]) -> Vec<Event<'_>> {
    let mut events = Vec::with_capacity(messages.len());
    for message in messages {
        for recipient in &message.recipients {
            if recipient.state == RecipientState::Suppressed {
                events.push(Event {
                    tenant: message.tenant_id,
                    message: message.id,
                    recipient: Some(recipient.id),
                    kind: "suppressed",
                    detail: recipient.last_reply.as_deref().unwrap_or_default(),
                    at: message.accepted_at,
                });
            }
        }
        events.push(Event {
            tenant: message.tenant_id,
            message: message.id,
            recipient: None,
            kind: "accepted",
            detail: "",
            at: message.accepted_at,
        });
    }
    events
}

/// What [`last_place!`] reads of a tenant.
macro_rules! last_place_sql {
    () => {
        // The message's places in the fair queue: past what was served and past the tenant's
        // own last place (see migration 0021).
        concat!(
            "SELECT (SELECT served FROM queue_clock WHERE id = 1), \
             COALESCE((SELECT MAX(fair_key) FROM recipients WHERE tenant_id = $1), 0), ",
            crate::batch::listening_sql!("$1"),
            ", EXISTS (SELECT 1 FROM tenants WHERE id = $1 AND sending_paused_at IS NOT NULL)"
        )
    };
}

/// [`last_place_sql!`] asking for the notification that wakes the nodes (see [`last_place!`]).
macro_rules! last_place_notify_sql {
    () => {
        concat!(
            last_place_sql!(),
            " FROM (SELECT pg_notify($2, '')) AS notified"
        )
    };
}

#[cfg(test)]
pub(crate) use {last_place_notify_sql, last_place_sql};

/// Reads a tenant's last place once per batch, inside the batch's transaction, whether it has a
/// webhook endpoint (which the batch's events then need not ask again), and whether its sending
/// is paused. On PostgreSQL (`$postgres`) a tenant read as paused is read again under its pause
/// lock, or its mail is not marked when a resume holds the lock (`held_mail.rs`); on SQLite the
/// write lock orders the two. With `$notify` (PostgreSQL) the same statement asks for the
/// notification that wakes the nodes, which PostgreSQL sends when (and only if) the transaction
/// commits: one round trip fewer than a statement of its own. The function is volatile, so its
/// one row is made although nothing reads it.
macro_rules! last_place {
    ($transaction:expr, $tenant:expr, $postgres:expr, $notify:expr) => {{
        let query = if $notify {
            sqlx::query_as(last_place_notify_sql!())
                .bind($tenant)
                .bind(crate::work_signal::CHANNEL)
        } else {
            sqlx::query_as(last_place_sql!()).bind($tenant)
        };
        let (served, tenant_last, listening, mut paused): (i64, i64, bool, bool) =
            query.fetch_one(&mut *$transaction).await?;
        if paused && $postgres {
            // A resume holds the lock: the mail is not marked, which is always safe.
            paused = sqlx::query_scalar(crate::held_mail::TRY_PAUSE_LOCK_SHARED_SQL)
                .bind($tenant)
                .fetch_one(&mut *$transaction)
                .await?;
            if paused {
                paused = sqlx::query_scalar(crate::held_mail::PAUSED_SQL)
                    .bind($tenant)
                    .fetch_one(&mut *$transaction)
                    .await?;
            }
        }
        (served.max(tenant_last), listening, paused)
    }};
}

/// Places every recipient of the batch in the fair queue, counting on from each tenant's last
/// place, which is read once per tenant: the places one message after another would get, held
/// when the tenant is paused. Also gives the batch's tenants that have a webhook endpoint. On
/// PostgreSQL (`$postgres`) the first tenant's read asks for the notification that wakes the
/// nodes (see [`last_place!`]).
macro_rules! place {
    ($transaction:expr, $messages:expr, $postgres:expr) => {{
        let messages: &[QueuedMessage] = $messages;
        let mut last_places: Vec<(TenantId, i64, bool)> = Vec::new();
        let mut listening: Vec<TenantId> = Vec::new();
        let mut placed = Vec::new();
        for message in messages {
            let known = last_places
                .iter()
                .position(|(tenant, _, _)| *tenant == message.tenant_id);
            let index = match known {
                Some(index) => index,
                None => {
                    // One notification per transaction is enough.
                    let notify = $postgres && last_places.is_empty();
                    let (last, listens, paused) =
                        last_place!($transaction, message.tenant_id, $postgres, notify);
                    last_places.push((message.tenant_id, last, paused));
                    if listens {
                        listening.push(message.tenant_id);
                    }
                    last_places.len() - 1
                }
            };
            let (_, last, held) = &mut last_places[index];
            for (position, recipient) in message.recipients.iter().enumerate() {
                *last += 1;
                placed.push(Placed {
                    message,
                    position,
                    recipient,
                    fair_key: *last,
                    held: *held,
                });
            }
        }
        (placed, listening)
    }};
}

/// Writes the statements that insert a run of messages and then their sources into `$script`.
macro_rules! insert_message_rows {
    ($script:expr, $transaction:expr, $run:expr) => {{
        let run: &[QueuedMessage] = $run;
        let insert = next_statement!($script, $transaction);
        insert.push(
            "INSERT INTO messages (id, tenant_id, mail_from, size, signed, signing_domain, \
             signing_selector, unsigned_code, unsigned_reason, route, source, idempotency_key, \
             idempotency_hash, accepted_at, expires_at, subject) ",
        );
        insert.push_values(run, |mut row, message| {
            let signing = SigningColumns::from(&message.signing);
            let key = message.idempotency_key.as_ref();
            row.push_bind(message.id)
                .push_bind(message.tenant_id)
                .push_bind(message.mail_from.clone())
                .push_bind(message.raw.len() as i64)
                .push_bind(signing.signed)
                .push_bind(signing.signing_domain)
                .push_bind(signing.signing_selector)
                .push_bind(signing.unsigned_code)
                .push_bind(signing.unsigned_reason)
                .push_bind(message.route.as_str())
                .push_bind(message.source.as_str())
                .push_bind(key.map(|key| key.key().to_owned()))
                .push_bind(key.map(|key| key.request_hash().to_owned()))
                .push_bind(message.accepted_at.0)
                .push_bind(message.expires_at.0)
                .push_bind(subject_of(&message.raw));
        });
        for sources in source_statements(run) {
            // Sources too large together for one statement do not share one query either.
            let bytes: usize = sources.iter().map(|message| message.raw.len()).sum();
            if $script.would_carry_too_much(bytes) {
                run_script!($script, $transaction)?;
            }
            let insert = next_statement!($script, $transaction);
            insert.push("INSERT INTO message_sources (message_id, tenant_id, raw) ");
            insert.push_values(sources, |mut row, message| {
                row.push_bind(message.id)
                    .push_bind(message.tenant_id)
                    .push_bind(message.raw.clone());
            });
            $script.carry(bytes);
        }
    }};
}

/// Writes the statement that inserts a run of placed recipients into `$script`.
macro_rules! insert_recipient_rows {
    ($script:expr, $transaction:expr, $run:expr) => {{
        let run: &[Placed<'_>] = $run;
        let insert = next_statement!($script, $transaction);
        insert.push(
            "INSERT INTO recipients (id, message_id, tenant_id, position, address, domain, \
             state, attempts, next_attempt_at, last_reply, updated_at, fair_key, accepted_at, \
             held) ",
        );
        insert.push_values(run, |mut row, placed| {
            let recipient = placed.recipient;
            row.push_bind(recipient.id)
                .push_bind(placed.message.id)
                .push_bind(placed.message.tenant_id)
                .push_bind(placed.position as i64)
                .push_bind(recipient.address.clone())
                .push_bind(recipient.domain.clone())
                .push_bind(recipient.state.as_str())
                .push_bind(i64::from(recipient.attempts))
                .push_bind(recipient.next_attempt_at.map(|at| at.0))
                .push_bind(recipient.last_reply.clone())
                .push_bind(recipient.updated_at.0)
                .push_bind(placed.fair_key)
                .push_bind(placed.message.accepted_at.0)
                .push_bind(placed.held);
        });
    }};
}

impl Store {
    /// Commits a message, its recipients and its `accepted` event in one transaction. A repeated
    /// idempotency key of the same tenant is refused as [`StoreError::Duplicate`].
    pub async fn insert_message(&self, message: &QueuedMessage) -> Result<(), StoreError> {
        self.insert_messages(std::slice::from_ref(message)).await
    }

    /// Commits several messages in one transaction: one durable commit for many acceptances
    /// (group commit). Either all are stored or none is.
    pub async fn insert_messages(&self, messages: &[QueuedMessage]) -> Result<(), StoreError> {
        let events = events(messages);
        with_writer!(self, pool => {
            // The places are read first, the one statement that must answer before the rest is
            // written, so the transaction takes the write lock before it reads.
            let mut transaction = pool.begin_write().await?;
            let written: Result<(), sqlx::Error> = async {
                let postgres = matches!(self, Store::Postgres(_));
                let (placed, listening) = place!(transaction, messages, postgres);
                // New rows only, none read by another statement: on PostgreSQL one statement for
                // a usual batch (up to 8 events, 4 MB of sources).
                let mut script = Script::independent_writes(self);
                for run in runs(messages) {
                    insert_message_rows!(script, transaction, run);
                }
                for run in runs(&placed) {
                    insert_recipient_rows!(script, transaction, run);
                }
                insert_events!(script, transaction, &events, &listening);
                run_script!(script, transaction)
            }
            .await;
            // The only key a batch can repeat is an idempotency key: every id in it is new.
            written.map_err(|error| StoreError::duplicate_as(error, DUPLICATE))?;
            transaction.commit().await?;
        });
        Ok(())
    }
}
