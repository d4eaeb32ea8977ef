//! Each tenant's delivered, bounced and complained recipients per hour, kept beside the events
//! that they count (migration 0033). The reputation guard judges a tenant's rates over a window
//! of days after every bounce and complaint (SPEC S10.5); counting that window's events each time
//! read every delivery of it, a million index entries per bounce for a tenant that sends a
//! million a week, and a bounce storm multiplied that by its own size.
//!
//! Every event of a counted kind adds to a row of its hour in the same transaction that inserts it
//! (`insert_event!` and `insert_events!` call in here), so the counts never disagree with the
//! events. A window is then the rows of its whole hours plus the events of the part of an hour it
//! starts with, which is exact, and bounded by one hour of events.
//!
//! A row is locked from the addition to the commit. Were an hour's counts one row, the outcomes
//! of one tenant's deliveries would commit one after another on PostgreSQL, each waiting for the
//! previous one's flush to disk, across all nodes. So an hour's counts are split over eight
//! stripes, chosen by the connection's backend process (migration 0040, [`Stripe`]), and read as
//! their sum: transactions on different connections add to different rows but for one pair in
//! eight. The addition also follows the transaction's writes to recipients, events and the
//! webhook outbox, which keeps any wait short.

use sealpost_domain::{TenantId, Timestamp};
use sqlx::QueryBuilder;

/// The width of one row's hour, in seconds.
const HOUR: i64 = 3600;

/// What one transaction adds to one tenant's hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Addition {
    pub(crate) tenant: TenantId,
    pub(crate) hour: i64,
    pub(crate) sent: i64,
    pub(crate) bounced: i64,
    pub(crate) complained: i64,
}

/// The hour an event at `at` counts in.
fn hour_of(at: Timestamp) -> i64 {
    at.0.div_euclid(HOUR)
}

/// The additions that events of `(tenant, kind, at)` make, one per tenant and hour, in the order
/// of tenant and hour. On PostgreSQL two transactions that add to the same rows thus lock them in
/// the same order and cannot deadlock on them, and one statement never names a row twice (which
/// `ON CONFLICT DO UPDATE` refuses).
pub(crate) fn additions<'a>(
    events: impl IntoIterator<Item = (TenantId, &'a str, Timestamp)>,
) -> Vec<Addition> {
    let mut additions: Vec<Addition> = Vec::new();
    for (tenant, kind, at) in events {
        let counted = match kind {
            "sent" | "bounced" | "complained" => kind,
            _ => continue,
        };
        let hour = hour_of(at);
        let position = additions
            .iter()
            .position(|addition| addition.tenant == tenant && addition.hour == hour);
        let addition = match position {
            Some(position) => &mut additions[position],
            None => {
                additions.push(Addition {
                    tenant,
                    hour,
                    sent: 0,
                    bounced: 0,
                    complained: 0,
                });
                additions.last_mut().expect("just pushed")
            }
        };
        match counted {
            "sent" => addition.sent += 1,
            "bounced" => addition.bounced += 1,
            _ => addition.complained += 1,
        }
    }
    additions.sort_by_key(|addition| (addition.tenant, addition.hour));
    additions
}

/// The stripe of an hour's counts that a transaction adds to, as SQL evaluated on its connection.
pub(crate) trait Stripe {
    const STRIPE: &'static str;
}

/// The backend process of the connection, of which each connection has its own: two
/// transactions that run at once are on two connections and, but for one in eight pairs, add
/// to different rows. Eight, because the reputation window reads every stripe of its hours
/// after each bounce. A transaction adds to one stripe of every hour it counts in, and locks
/// its rows in the order of tenant and hour, so transactions cannot deadlock on them.
impl Stripe for sqlx::Postgres {
    const STRIPE: &'static str = "pg_backend_pid() % 8";
}

/// SQLite's one writer never waits for another: one stripe.
impl Stripe for sqlx::Sqlite {
    const STRIPE: &'static str = "0";
}

/// Writes the statement that adds `additions` to the counts into `insert`, which holds nothing
/// of it yet.
pub(crate) fn push_additions<DB: sqlx::Database + Stripe>(
    insert: &mut QueryBuilder<DB>,
    additions: &[Addition],
) where
    for<'t> TenantId: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    insert.push("INSERT INTO sending_counts (tenant_id, hour, stripe, sent, bounced, complained) ");
    insert.push_values(additions, |mut row, addition| {
        row.push_bind(addition.tenant)
            .push_bind(addition.hour)
            .push(DB::STRIPE)
            .push_bind(addition.sent)
            .push_bind(addition.bounced)
            .push_bind(addition.complained);
    });
    insert.push(
        " ON CONFLICT (tenant_id, hour, stripe) DO UPDATE SET \
         sent = sending_counts.sent + excluded.sent, \
         bounced = sending_counts.bounced + excluded.bounced, \
         complained = sending_counts.complained + excluded.complained",
    );
}

/// Writes the statements that add `$additions` to the counts into `$script`, in runs of the
/// shapes every statement of many rows has (`batch::runs`); each row is in one run, so no
/// statement names a row twice. The rows are locked in the order of tenant and hour only if the
/// runs are too: the clauses of one PostgreSQL statement run in no set order, so each run after
/// the first waits until what was written before it has run. A macro because each backend's
/// transaction is its own type; it returns early with the error of a statement it had to run.
macro_rules! add_counts {
    ($script:expr, $transaction:expr, $additions:expr) => {{
        let additions: &[$crate::sending_counts::Addition] = $additions;
        for (index, run) in $crate::batch::runs(additions).enumerate() {
            if index > 0 && !$script.keeps_order() {
                $crate::script::run_script!($script, $transaction)?;
            }
            let insert = $crate::script::next_statement!($script, $transaction);
            $crate::sending_counts::push_additions(insert, run);
        }
    }};
}
pub(crate) use add_counts;

/// Adds the event of `$kind` at `$at` to `$tenant`'s counts inside `$transaction`, if its kind
/// is counted; evaluates to `Result<(), sqlx::Error>`. For the one event `insert_event!` appends.
macro_rules! add_count {
    ($transaction:expr, $tenant:expr, $kind:expr, $at:expr) => {{
        let additions = $crate::sending_counts::additions([($tenant, $kind, $at)]);
        let result: Result<(), sqlx::Error> = if additions.is_empty() {
            Ok(())
        } else {
            let mut insert = sqlx::QueryBuilder::new("");
            $crate::sending_counts::push_additions(&mut insert, &additions);
            insert.build().execute(&mut *$transaction).await.map(drop)
        };
        result
    }};
}
pub(crate) use add_count;

/// The counted events of a window as one row of sent, bounced and complained: the rows of the
/// whole hours from `$4` on, each kind plus the events of the part-hour the window starts with
/// (`$2` up to `$3`, the next whole hour). The counts are read in one pass, however many stripes
/// an hour has; the events by kind through their index. One statement, so both parts read one
/// snapshot.
pub(crate) const WINDOW_SQL: &str = "SELECT \
     CAST(COALESCE(SUM(sent), 0) + (SELECT COUNT(*) FROM events WHERE tenant_id = $1 \
     AND kind = 'sent' AND at >= $2 AND at < $3) AS BIGINT), \
     CAST(COALESCE(SUM(bounced), 0) + (SELECT COUNT(*) FROM events WHERE tenant_id = $1 \
     AND kind = 'bounced' AND at >= $2 AND at < $3) AS BIGINT), \
     CAST(COALESCE(SUM(complained), 0) + (SELECT COUNT(*) FROM events WHERE tenant_id = $1 \
     AND kind = 'complained' AND at >= $2 AND at < $3) AS BIGINT) \
     FROM sending_counts WHERE tenant_id = $1 AND hour >= $4";

/// The bounds [`WINDOW_SQL`] takes for a window from `since`: `since`, the first whole hour at or
/// after it (in seconds), and that hour's number.
pub(crate) fn window_bounds(since: Timestamp) -> (i64, i64, i64) {
    let first_whole_hour = hour_of(since) + i64::from(since.0.rem_euclid(HOUR) != 0);
    (since.0, first_whole_hour * HOUR, first_whole_hour)
}

#[cfg(test)]
mod tests {
    use sealpost_domain::Uuid;

    use super::*;

    #[test]
    fn additions_count_each_kind_per_tenant_and_hour_in_order() {
        let (first, second) = (
            TenantId::from(Uuid::from_u128(1)),
            TenantId::from(Uuid::from_u128(2)),
        );
        let events = [
            (second, "sent", Timestamp(7_200)),
            (first, "sent", Timestamp(3_599)),
            (first, "deferred", Timestamp(3_599)),
            (first, "bounced", Timestamp(3_600)),
            (first, "sent", Timestamp(0)),
            (first, "complained", Timestamp(10)),
            (first, "soft_bounced", Timestamp(10)),
        ];
        let addition = |tenant, hour, sent, bounced, complained| Addition {
            tenant,
            hour,
            sent,
            bounced,
            complained,
        };
        assert_eq!(
            additions(events),
            [
                addition(first, 0, 2, 0, 1),
                addition(first, 1, 0, 1, 0),
                addition(second, 2, 1, 0, 0),
            ]
        );
        assert_eq!(additions([(first, "accepted", Timestamp(1))]), []);
    }

    #[test]
    fn a_window_starts_with_its_part_hour() {
        assert_eq!(window_bounds(Timestamp(7_200)), (7_200, 7_200, 2));
        assert_eq!(window_bounds(Timestamp(7_201)), (7_201, 10_800, 3));
        assert_eq!(window_bounds(Timestamp(10_799)), (10_799, 10_800, 3));
    }
}
