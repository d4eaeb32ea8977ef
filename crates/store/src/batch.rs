//! Statements of many rows. Every statement is a round trip to the database (to the writing
//! connection's thread, on SQLite), so a transaction that writes a row per message to several
//! tables writes each table's rows in a few statements rather than one per row.

use sealpost_domain::{MessageId, RecipientId, TenantId, Timestamp};

/// The most rows one statement takes. 64 rows of 16 columns are 1,024 bound values, far below
/// either backend's limit.
pub(crate) const MAX_ROWS: usize = 64;

/// The most columns a statement of many rows writes (a message's); with [`MAX_ROWS`] it bounds
/// the values one statement binds, which bounds how many PostgreSQL gathers (`script.rs`).
pub(crate) const MOST_COLUMNS: usize = 16;

/// Up to this many rows are written in one statement of exactly their number: a batch of a few
/// messages, the usual size under load, is then one statement per table rather than one per
/// power of two in its size.
const EXACT_ROWS: usize = 8;

/// `rows` cut into runs: all of them when they are at most [`EXACT_ROWS`], otherwise runs whose
/// lengths are powers of two, none longer than [`MAX_ROWS`], and the last few rows as one run.
/// Each statement thus has at most eleven shapes (1 to 8, 16, 32 and 64 rows). On SQLite the
/// cache holds whole scripts (`script.rs`), one for each sequence of runs a batch makes.
pub(crate) fn runs<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        let length = match rest.len() {
            0 => return None,
            few @ 1..=EXACT_ROWS => few,
            many => (1 << many.ilog2()).min(MAX_ROWS),
        };
        let (run, tail) = rest.split_at(length);
        rest = tail;
        Some(run)
    })
}

/// A delivery event to append (the UI and webhooks read these).
pub(crate) struct Event<'a> {
    pub(crate) tenant: TenantId,
    pub(crate) message: MessageId,
    pub(crate) recipient: Option<RecipientId>,
    pub(crate) kind: &'a str,
    pub(crate) detail: &'a str,
    pub(crate) at: Timestamp,
}

/// Whether the tenant whose id is the placeholder `$tenant` has an enabled webhook endpoint, as
/// an SQL expression: a caller that reads something else of the tenant in the transaction asks
/// it in the same statement.
macro_rules! listening_sql {
    ($tenant:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = ",
            $tenant,
            " AND enabled = TRUE)"
        )
    };
}
pub(crate) use listening_sql;

/// Appends `events` in their order inside the caller's transaction, in statements of many rows
/// written into `$script`, then a webhook delivery of each that is a webhook event to each of its
/// tenant's endpoints that wants it, as `insert_event!` does for one: one statement per such
/// event, in the events' order. Those run by themselves, after what the script holds so far,
/// since their numbered placeholders would name a script's first arguments rather than their
/// own. `listening` holds the events' tenants that have an endpoint:
/// the caller asks [`listening_sql!`] of each in a statement it runs in the transaction anyway,
/// because most tenants have none and a statement of its own would be one more round trip per
/// batch. Last, the events of counted kinds are added to their tenants' hourly counts
/// (`sending_counts.rs`), in statements written into `$script`.
macro_rules! insert_events {
    ($script:expr, $transaction:expr, $events:expr, $listening:expr) => {{
        let events: &[$crate::batch::Event<'_>] = $events;
        let listening: &[sealpost_domain::TenantId] = $listening;
        for (index, run) in $crate::batch::runs(events).enumerate() {
            // Events are numbered in the order they are inserted, which the clauses of one
            // query do not keep: each run after the first starts a query of its own there.
            if index > 0 && !$script.keeps_order() {
                $crate::script::run_script!($script, $transaction)?;
            }
            let insert = $crate::script::next_statement!($script, $transaction);
            insert.push(
                "INSERT INTO events (tenant_id, message_id, recipient_id, kind, detail, at) ",
            );
            insert.push_values(run, |mut row, event| {
                row.push_bind(event.tenant)
                    .push_bind(event.message)
                    .push_bind(event.recipient)
                    .push_bind(event.kind.to_owned())
                    .push_bind(event.detail.to_owned())
                    .push_bind(event.at.0);
            });
        }
        let mut outbox = Vec::new();
        for event in events {
            if listening.contains(&event.tenant)
                && let Some(webhook) = sealpost_domain::EventType::of_message_event(event.kind)
            {
                outbox.push((event, webhook));
            }
        }
        if !outbox.is_empty() {
            $crate::script::run_script!($script, $transaction)?;
        }
        for (event, webhook) in outbox {
            $crate::webhooks::insert_outbox!(
                $transaction,
                event.tenant,
                webhook.name(),
                event.message.to_string(),
                Some(event.message),
                event.recipient,
                None,
                event.detail,
                event.at
            )?;
        }
        // The counts last, in the script the caller runs next (`sending_counts.rs`).
        let additions = $crate::sending_counts::additions(
            events
                .iter()
                .map(|event| (event.tenant, event.kind, event.at)),
        );
        $crate::sending_counts::add_counts!($script, $transaction, &additions);
    }};
}
pub(crate) use insert_events;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_rows_are_one_run_and_more_are_cut_into_powers_of_two_up_to_the_limit() {
        let rows: Vec<usize> = (0..200).collect();
        let lengths = |count: usize| runs(&rows[..count]).map(<[usize]>::len).collect::<Vec<_>>();
        assert_eq!(lengths(0), Vec::<usize>::new());
        assert_eq!(lengths(1), [1]);
        assert_eq!(lengths(3), [3]);
        assert_eq!(lengths(8), [8]);
        assert_eq!(lengths(9), [8, 1]);
        assert_eq!(lengths(15), [8, 7]);
        assert_eq!(lengths(50), [32, 16, 2]);
        assert_eq!(lengths(64), [64]);
        assert_eq!(lengths(77), [64, 8, 5]);
        assert_eq!(lengths(200), [64, 64, 64, 8]);
        // Eleven shapes in all, whatever the count.
        let mut shapes: Vec<usize> = (0..=rows.len())
            .flat_map(|count| runs(&rows[..count]).map(<[usize]>::len).collect::<Vec<_>>())
            .collect();
        shapes.sort_unstable();
        shapes.dedup();
        assert_eq!(shapes, [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64]);
        let joined: Vec<usize> = runs(&rows).flatten().copied().collect();
        assert_eq!(joined, rows);
    }
}
