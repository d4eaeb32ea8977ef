//! The hourly sending counts agree with the events they count (migration 0033): the figures of
//! a window, read from the counts and the window's first part-hour of events, equal a count of
//! the window's events, for windows that start on an hour and inside one, on both backends; and
//! the migration counts the events stored before it; and additions on two PostgreSQL connections
//! go to two rows, so neither waits for the other's commit.

use sealpost_domain::{
    AttemptResult, Feedback, QueuedMessage, RecipientState, SendingFigures, TenantId, Timestamp,
};

use crate::queue_tests::{NOW, attempt, message, stores_with_tenant};
use crate::signing_key_migration_tests::migrations;
use crate::{Claim, FeedbackChange, RecipientUpdate, Store};

/// The first whole hour after the test's `NOW`.
const HOUR: i64 = (NOW / 3600 + 1) * 3600;

/// Window starts around two hour boundaries, and before and after everything.
const STARTS: [i64; 10] = [
    0,
    HOUR - 2,
    HOUR - 1,
    HOUR,
    HOUR + 1,
    HOUR + 3_599,
    HOUR + 3_600,
    HOUR + 3_601,
    HOUR + 7_200,
    HOUR + 100_000,
];

/// The figures counted from the tenant's events themselves, as the guard counted them before.
async fn counted_from_events(store: &Store, tenant: TenantId, since: i64) -> SendingFigures {
    let rows: Vec<(String, i64)> = crate::with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT kind, COUNT(*) FROM events WHERE tenant_id = $1 AND at >= $2 \
             AND kind IN ('sent', 'bounced', 'complained') GROUP BY kind",
        )
        .bind(tenant)
        .bind(since)
        .fetch_all(pool)
        .await
        .unwrap()
    });
    let mut figures = SendingFigures::default();
    for (kind, count) in rows {
        let count = u64::try_from(count).unwrap();
        match kind.as_str() {
            "sent" => figures.sent = count,
            "bounced" => figures.bounced = count,
            _ => figures.complained = count,
        }
    }
    figures
}

/// The tenant's figures from the counts equal a count of its events for every window start.
async fn every_window_agrees(store: &Store, tenant: TenantId, context: &str) {
    for since in STARTS {
        assert_eq!(
            store
                .sending_figures(tenant, Timestamp(since))
                .await
                .unwrap(),
            counted_from_events(store, tenant, since).await,
            "{context} from {since}"
        );
    }
}

/// A message of the tenant to `count` recipients, stored, and its recipients claimed.
async fn claimed_message(
    store: &Store,
    tenant: TenantId,
    count: usize,
) -> (QueuedMessage, Vec<Claim>) {
    let addresses: Vec<String> = (0..count)
        .map(|index| format!("r{index}@one.test"))
        .collect();
    let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let queued = message(tenant, &addresses, None);
    store.insert_message(&queued).await.unwrap();
    let claims = store
        .claim_due("node-a", Timestamp(NOW), Timestamp(NOW + 60), 100)
        .await
        .unwrap();
    assert_eq!(claims.len(), count);
    (queued, claims)
}

#[tokio::test]
async fn figures_from_the_counts_equal_the_events_of_every_window() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let (queued, claims) = claimed_message(&store, tenant, 8).await;
        // Delivered on both sides of two hour boundaries; one recipient is deferred, which is
        // not counted.
        let finished = [-2, -1, 0, 1, 3_599, 3_600, 3_601, 7_300];
        let round: Vec<_> = claims
            .iter()
            .zip(finished)
            .enumerate()
            .map(|(index, (claim, offset))| {
                let state = match index {
                    7 => RecipientState::Deferred,
                    _ => RecipientState::Sent,
                };
                let update = RecipientUpdate {
                    state,
                    next_attempt_at: None,
                    last_reply: "250 2.0.0 ok".into(),
                };
                let mut record = attempt(AttemptResult::Delivered);
                record.finished_at = Timestamp(HOUR + offset);
                (claim.clone(), update, record)
            })
            .collect();
        assert!(
            store
                .finish_attempts(&round)
                .await
                .unwrap()
                .iter()
                .all(|recorded| *recorded)
        );
        // Bounces and a complaint, one event each, inside an hour and on its first second.
        let reports = [
            (0, Feedback::HardBounce, "bounced", HOUR + 10),
            (1, Feedback::HardBounce, "bounced", HOUR + 3_600),
            (2, Feedback::Complaint, "complained", HOUR + 3_600),
        ];
        for (index, feedback, event, at) in reports {
            let change = FeedbackChange {
                tenant_id: tenant,
                message_id: queued.id,
                recipient_id: claims[index].recipient_id,
                from: RecipientState::Sent,
                to: RecipientState::Sent.after_feedback(feedback),
                event,
                detail: "550 5.1.1".into(),
                suppression: None,
                at: Timestamp(at),
            };
            assert!(store.record_feedback(&change).await.unwrap());
        }
        let everything = store.sending_figures(tenant, Timestamp(0)).await.unwrap();
        assert_eq!(
            (everything.sent, everything.bounced, everything.complained),
            (7, 2, 1)
        );
        every_window_agrees(&store, tenant, &format!("{:?}", store.backend())).await;
    }
}

/// Events of two tenants, stored before migration 0033, around two hour boundaries.
fn stored_events(first: &str, second: &str) -> String {
    let mut rows = Vec::new();
    for (tenant, kind, offset) in [
        (first, "sent", -1),
        (first, "sent", 0),
        (first, "sent", 1),
        (first, "sent", 3_600),
        (first, "bounced", 3_599),
        (first, "complained", 3_600),
        (first, "deferred", 3_600),
        (second, "sent", 5),
        (second, "bounced", 7_201),
    ] {
        rows.push(format!(
            "('{tenant}', '018f0000-0000-7000-8000-0000000000aa', NULL, '{kind}', '', {})",
            HOUR + offset
        ));
    }
    format!(
        "INSERT INTO events (tenant_id, message_id, recipient_id, kind, detail, at) VALUES {};",
        rows.join(", ")
    )
}

#[tokio::test]
async fn the_migration_counts_the_events_stored_before_it() {
    let directory = tempfile::tempdir().unwrap();
    let sqlite_url = format!("{}?mode=rwc", crate::testing::sqlite_url(directory.path()));
    let postgres_url = crate::testing::fresh_postgres_url().await;
    let first: TenantId = "018f0000-0000-7000-8000-000000000001".parse().unwrap();
    let second: TenantId = "018f0000-0000-7000-8000-000000000002".parse().unwrap();
    for (backend, url) in [("sqlite", sqlite_url), ("postgres", postgres_url)] {
        let store = match backend {
            "sqlite" => Store::Sqlite(crate::SqlitePools::single(
                sqlx::SqlitePool::connect(&url).await.unwrap(),
            )),
            _ => Store::Postgres(sqlx::PgPool::connect(&url).await.unwrap()),
        };
        let mut steps = migrations(backend, "0033", false);
        steps.push(stored_events(&first.to_string(), &second.to_string()));
        steps.extend(
            migrations(backend, "9999", true)
                .into_iter()
                .skip(steps.len() - 1),
        );
        for step in steps {
            crate::with_writer!(&store, pool => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(step)).execute(pool).await.unwrap();
            });
        }
        let everything = store.sending_figures(first, Timestamp(0)).await.unwrap();
        assert_eq!(
            (everything.sent, everything.bounced, everything.complained),
            (4, 1, 1)
        );
        for tenant in [first, second] {
            every_window_agrees(&store, tenant, &format!("{backend}: {tenant}")).await;
        }
    }
}

/// On PostgreSQL two transactions on different connections that add to one tenant's hour do not
/// wait for each other (migration 0040): the second commits while the first is still open, and
/// the figures are the sum of both.
#[tokio::test]
async fn additions_on_two_connections_do_not_wait_for_each_other() {
    use sqlx::{Connection as _, PgConnection};

    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let Store::Postgres(pool) = &store else {
            continue;
        };
        // Two connections of different stripes (a backend's process id modulo 8).
        let options = pool.connect_options();
        let stripe = "SELECT pg_backend_pid() % 8";
        let mut first = PgConnection::connect_with(&options).await.unwrap();
        let first_stripe: i32 = sqlx::query_scalar(stripe)
            .fetch_one(&mut first)
            .await
            .unwrap();
        let mut second = loop {
            let mut connection = PgConnection::connect_with(&options).await.unwrap();
            let other_stripe: i32 = sqlx::query_scalar(stripe)
                .fetch_one(&mut connection)
                .await
                .unwrap();
            if other_stripe != first_stripe {
                break connection;
            }
        };
        let add = |at: i64| {
            let mut insert = sqlx::QueryBuilder::new("");
            crate::sending_counts::push_additions(
                &mut insert,
                &crate::sending_counts::additions([(tenant, "sent", Timestamp(at))]),
            );
            insert
        };
        let mut open = first.begin().await.unwrap();
        add(HOUR).build().execute(&mut *open).await.unwrap();
        let mut other = second.begin().await.unwrap();
        sqlx::query("SET LOCAL lock_timeout = '5s'")
            .execute(&mut *other)
            .await
            .unwrap();
        add(HOUR + 1).build().execute(&mut *other).await.expect(
            "an addition on another connection does not wait for the open transaction's commit",
        );
        other.commit().await.unwrap();
        open.commit().await.unwrap();
        let figures = store.sending_figures(tenant, Timestamp(0)).await.unwrap();
        assert_eq!(figures.sent, 2);
    }
}

/// A round whose deliveries fall in more hours than one statement of additions holds adds them
/// in several statements, one after another (`add_counts!`), and the counts still equal the
/// events on both backends.
#[tokio::test]
async fn a_round_over_many_hours_is_counted_in_full() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let (_, claims) = claimed_message(&store, tenant, 12).await;
        let round: Vec<_> = claims
            .iter()
            .zip(0..)
            .map(|(claim, hour)| {
                let update = RecipientUpdate {
                    state: RecipientState::Sent,
                    next_attempt_at: None,
                    last_reply: "250 2.0.0 ok".into(),
                };
                let mut record = attempt(AttemptResult::Delivered);
                record.finished_at = Timestamp(HOUR + hour * 3_600 + 5);
                (claim.clone(), update, record)
            })
            .collect();
        let recorded = store.finish_attempts(&round).await.unwrap();
        assert!(recorded.iter().all(|recorded| *recorded));
        let everything = store.sending_figures(tenant, Timestamp(0)).await.unwrap();
        assert_eq!(everything.sent, 12);
        for hour in 0..13 {
            let since = Timestamp(HOUR + hour * 3_600);
            assert_eq!(
                store.sending_figures(tenant, since).await.unwrap(),
                counted_from_events(&store, tenant, since.0).await,
                "{:?} from hour {hour}",
                store.backend()
            );
        }
    }
}
