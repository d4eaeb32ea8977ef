//! What one claim costs behind a backlog, on SQLite and (with `SEALPOST_TEST_POSTGRES_URL`
//! reachable) PostgreSQL: the claim's statement leasing up to 100 recipients, beside the claim's
//! statement as it stood before migration 0031 (which read every waiting recipient and sorted
//! them) as the reference, on the same queue in the same run. Four queues: 100 waiting; 100,000
//! waiting behind a history of 100,000 sent; 50 waiting beside 100,000 retries not due yet,
//! which the claim read one by one before; and 50 waiting behind a paused tenant's 100,000, which
//! the claim read one by one before migration 0037 (with the time the pause took to mark them
//! held and the time the resume took to release them, each of its own message). Each figure is
//! the median of [`ROUNDS`] claims; between claims the leased recipients are put back, outside
//! the time, so every claim sees the same queue. Beside each claim, the time the metrics' queue
//! depth takes to count the queue. Run with `cargo bench -p sealpost-store --features testing`.

use std::path::Path;
use std::time::{Duration, Instant};

use sealpost_store::Store;
use sealpost_store::testing::{self, NOW, claim_reference_sql, claim_sql};

const ROUNDS: usize = 21;
const PAUSED_TENANT: &str = "SELECT id FROM tenants WHERE sending_paused_at IS NOT NULL";
const LIMIT: u32 = 100;

/// Runs a claim's statement `sql` and returns how many recipients it leased.
async fn claim(store: &Store, sql: &str) -> usize {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store {
        Store::Sqlite(pools) => sqlx::query(sql)
            .bind("bench")
            .bind(NOW + 60)
            .bind("token")
            .bind(NOW)
            .bind(i64::from(LIMIT))
            .fetch_all(pools.writer())
            .await
            .unwrap()
            .len(),
        Store::Postgres(pool) => sqlx::query(sql)
            .bind("bench")
            .bind(NOW + 60)
            .bind("token")
            .bind(NOW)
            .bind(i64::from(LIMIT))
            .fetch_all(pool)
            .await
            .unwrap()
            .len(),
    }
}

/// Runs `sql` with `values` bound as integers on whichever backend `store` is.
async fn execute(store: &Store, sql: &str, values: &[i64]) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store {
        Store::Sqlite(pools) => {
            let mut query = sqlx::query(sql);
            for value in values {
                query = query.bind(*value);
            }
            query.execute(pools.writer()).await.unwrap();
        }
        Store::Postgres(pool) => {
            let mut query = sqlx::query(sql);
            for value in values {
                query = query.bind(*value);
            }
            query.execute(pool).await.unwrap();
        }
    }
}

/// The recipients of one queue: how many wait, how many were sent, how many are retries not
/// due until an hour from now, and how many of a paused tenant's wait in front of them all.
#[derive(Debug, Clone, Copy)]
struct Queue {
    label: &'static str,
    waiting: i64,
    sent: i64,
    not_due: i64,
    paused: i64,
}

const QUEUES: [Queue; 4] = [
    Queue {
        label: "100 waiting",
        waiting: 100,
        sent: 0,
        not_due: 0,
        paused: 0,
    },
    Queue {
        label: "100,000 waiting behind 100,000 sent",
        waiting: 100_000,
        sent: 100_000,
        not_due: 0,
        paused: 0,
    },
    Queue {
        label: "50 waiting beside 100,000 retries not due",
        waiting: 50,
        sent: 0,
        not_due: 100_000,
        paused: 0,
    },
    Queue {
        label: "50 waiting behind a paused tenant's 100,000",
        waiting: 50,
        sent: 0,
        not_due: 0,
        paused: 100_000,
    },
];

/// A tenant with one stored message and the recipients of `queue`, each with its own place:
/// the waiting ones first, then those sent, then the retries not due; in front of them all, the
/// waiting recipients of a paused tenant, and how long pausing it took.
async fn fill(store: &Store, queue: Queue) -> Option<Duration> {
    let tenant = testing::tenant("acme", "Acme");
    store.create_tenant(&tenant).await.unwrap();
    let message = testing::message(tenant.id, &["first@one.test"], None);
    store.insert_message(&message).await.unwrap();
    // The message's own recipient is part of the history, so the queue holds what it says.
    let sent = format!(
        "UPDATE recipients SET state = 'sent', attempts = 1 WHERE message_id = '{}'",
        message.id
    );
    execute(store, &sent, &[]).await;
    let total = queue.waiting + queue.sent + queue.not_due;
    let values = [
        total,
        queue.waiting,
        queue.waiting + queue.sent,
        NOW,
        queue.paused,
    ];
    let its_own = format!("'{}'", message.id);
    execute(store, &insert_sql(store, &message, &its_own, "8"), &values).await;
    let mut pause = None;
    if queue.paused > 0 {
        let paused = testing::tenant("paused", "Paused");
        store.create_tenant(&paused).await.unwrap();
        let message = testing::message(paused.id, &["first@one.test"], None);
        store.insert_message(&message).await.unwrap();
        // A message of its own for each recipient, as a burst of single messages has: a resume
        // releases held mail message by message.
        let values = [queue.paused];
        execute(store, &insert_messages_sql(store, &message), &values).await;
        let values = [queue.paused, queue.paused, queue.paused, NOW, 0];
        let of_its_own = format!("'{MESSAGE_PREFIX}' || {}", numbered(store).1);
        let insert = insert_sql(store, &message, &of_its_own, "9");
        execute(store, &insert, &values).await;
        let at = sealpost_domain::Timestamp(NOW);
        let start = Instant::now();
        assert!(store.pause_sending(paused.id, at, "bench").await.unwrap());
        // The stored message's own recipient waits too.
        let marked = store.hold_waiting_mail(paused.id).await.unwrap();
        assert_eq!(marked, u64::try_from(queue.paused + 1).unwrap());
        pause = Some(start.elapsed());
    }
    if let Store::Postgres(_) = store {
        // As autovacuum analyses a table in service.
        execute(store, "ANALYZE recipients", &[]).await;
    }
    pause
}

/// The statement that adds `$1` recipients to `message`: the first `$2` waiting, then up to the
/// `$3`rd sent, then retries not due, with places from `$5` on and `$4` as now. Each id is a UUID
/// made of `variant` and the recipient's number; each belongs to the message `message_id` (an
/// SQL expression, which may use the number `n`) of `message`'s tenant.
fn insert_sql(
    store: &Store,
    message: &sealpost_domain::QueuedMessage,
    message_id: &str,
    variant: &str,
) -> String {
    let (numbers, id) = numbered(store);
    format!(
        "INSERT INTO recipients (id, message_id, tenant_id, position, address, domain, state, \
         attempts, next_attempt_at, updated_at, fair_key, accepted_at) \
         SELECT '00000000-0000-4000-{variant}000-' || {id}, {message_id}, '{}', n, \
         'someone@one.test', 'one.test', CASE WHEN n <= $2 THEN 'queued' WHEN n <= $3 THEN 'sent' \
         ELSE 'deferred' END, CASE WHEN n <= $2 THEN 0 ELSE 1 END, \
         CASE WHEN n > $3 THEN $4 + 3600 END, $4, n + $5, $4 FROM {numbers} AS numbers",
        message.tenant_id
    )
}

/// The ids of the messages [`insert_messages_sql`] adds, before each one's number.
const MESSAGE_PREFIX: &str = "00000000-0000-4000-a000-";

/// The numbers 1 to `$1` as rows of `n`, and the expression of `n` as twelve digits.
fn numbered(store: &Store) -> (&'static str, &'static str) {
    match store {
        Store::Sqlite(_) => (
            "(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $1) \
             SELECT n FROM g)",
            "printf('%012d', n)",
        ),
        Store::Postgres(_) => (
            "(SELECT generate_series(1, $1) AS n)",
            "lpad(n::text, 12, '0')",
        ),
    }
}

/// The statement that adds `$1` messages of `message`'s tenant, numbered as [`MESSAGE_PREFIX`]
/// says.
fn insert_messages_sql(store: &Store, message: &sealpost_domain::QueuedMessage) -> String {
    let (numbers, id) = numbered(store);
    format!(
        "INSERT INTO messages (id, tenant_id, mail_from, size, signed, route, source, \
         accepted_at, expires_at) SELECT '{MESSAGE_PREFIX}' || {id}, '{}', 'a@client.test', 1, \
         TRUE, 'native', 'http', {NOW}, {NOW} + 86400 FROM {numbers} AS numbers",
        message.tenant_id
    )
}

/// The median time of [`ROUNDS`] runs of the claim's statement `sql` on the same queue, each
/// leasing `expected` recipients.
async fn median(store: &Store, sql: &str, expected: usize) -> Duration {
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let leased = claim(store, sql).await;
        times.push(start.elapsed());
        assert_eq!(leased, expected);
        execute(
            store,
            "UPDATE recipients SET state = 'queued', lease_owner = NULL, lease_until = NULL, \
             lease_token = NULL WHERE state = 'sending'",
            &[],
        )
        .await;
    }
    times.sort();
    times[ROUNDS / 2]
}

/// The median time of [`ROUNDS`] reads of the queue depth, as each scrape of the metrics makes
/// it, and how many recipients it counted.
async fn queue_depth(store: &Store) -> (Duration, i64) {
    let mut times = Vec::with_capacity(ROUNDS);
    let mut counted = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let depth = store.queue_depth().await.unwrap();
        times.push(start.elapsed());
        counted = depth.iter().map(|(_, count)| count).sum();
    }
    times.sort();
    (times[ROUNDS / 2], counted)
}

fn milliseconds(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}

/// A fresh store of the backend: SQLite in `directory`, or PostgreSQL in a schema of its own,
/// with that schema's name to drop afterwards.
async fn fresh_store(postgres: bool, directory: &Path) -> (Store, Option<String>) {
    if !postgres {
        let store = Store::connect(&testing::sqlite_url(directory)).await;
        return (store.unwrap(), None);
    }
    let url = testing::fresh_postgres_url().await;
    let schema = url
        .rsplit_once("search_path%3D")
        .map(|(_, schema)| schema.to_owned());
    (Store::connect(&url).await.unwrap(), schema)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut backends = vec![("SQLite", false)];
    if std::env::var("SEALPOST_TEST_POSTGRES_URL").is_ok() {
        backends.push(("PostgreSQL", true));
    }
    for (name, postgres) in backends {
        for queue in QUEUES {
            let directory = tempfile::tempdir().unwrap();
            let (store, schema) = fresh_store(postgres, directory.path()).await;
            let pause = fill(&store, queue).await;
            let expected = usize::try_from(queue.waiting.min(i64::from(LIMIT))).unwrap();
            let now = median(&store, &claim_sql(&store), expected).await;
            let before = median(&store, &claim_reference_sql(&store), expected).await;
            println!(
                "{name}, {}: a claim of up to {LIMIT} {:.2} ms, before migration 0031 {:.2} ms: \
                 {:.3} of its time",
                queue.label,
                milliseconds(now),
                milliseconds(before),
                now.as_secs_f64() / before.as_secs_f64()
            );
            let (depth, waiting) = queue_depth(&store).await;
            println!(
                "{name}, {}: the metrics' queue depth ({waiting} recipients not final) read in \
                 {:.2} ms",
                queue.label,
                milliseconds(depth)
            );
            if let Some(pause) = pause {
                let tenant: (sealpost_domain::TenantId,) = match &store {
                    Store::Sqlite(pools) => sqlx::query_as(PAUSED_TENANT)
                        .fetch_one(pools.writer())
                        .await
                        .unwrap(),
                    Store::Postgres(pool) => {
                        sqlx::query_as(PAUSED_TENANT).fetch_one(pool).await.unwrap()
                    }
                };
                let start = Instant::now();
                let at = sealpost_domain::Timestamp(NOW + 3600);
                assert!(store.resume_sending(tenant.0, at).await.unwrap());
                println!(
                    "{name}: pausing the tenant marked its {} waiting held in {:.0} ms, resuming \
                     released them (each of its own message) in {:.0} ms",
                    queue.paused,
                    milliseconds(pause),
                    milliseconds(start.elapsed())
                );
            }
            if let Some(schema) = schema {
                let drop = format!("DROP SCHEMA {schema} CASCADE");
                execute(&store, &drop, &[]).await;
            }
        }
    }
}
