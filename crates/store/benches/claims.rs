//! What one claim costs behind a backlog: `claim_due` taking 100 recipients from a queue of
//! 100 waiting, and from a queue of 100,000 waiting behind a history of 100,000 sent, on SQLite
//! and (with `SEALPOST_TEST_POSTGRES_URL` reachable) PostgreSQL. Beside them, in the same run,
//! the claim's selection as it stood before migration 0031, which read every waiting recipient
//! and sorted them, as the reference. Each figure is the median of [`ROUNDS`] claims; between
//! claims the taken recipients are put back, outside the time, so every claim sees the same
//! queue. Run with `cargo bench -p sealpost-store --features testing`.

use std::time::{Duration, Instant};

use sealpost_domain::{
    DomainName, MessageId, QueuedMessage, Recipient, RecipientId, RecipientState, Route, Selector,
    SigningRecord, SubmissionSource, SystemClock, Tenant, TenantId, TenantName, Timestamp,
};
use sealpost_store::{Store, testing};

const ROUNDS: usize = 21;
const LIMIT: u32 = 100;
const NOW: i64 = 1_800_000_000;

/// The selection of the claim before migration 0031, locking on PostgreSQL as the claim did:
/// the same rows in the same order, with no index in that order to read them from.
fn selection_before(store: &Store) -> String {
    let lock = match store {
        Store::Sqlite(_) => "",
        Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    format!(
        "SELECT id FROM recipients WHERE ((state IN ('queued', 'deferred') AND \
         COALESCE(next_attempt_at, 0) <= $1) OR (state = 'sending' AND lease_until < $1)) AND \
         tenant_id NOT IN (SELECT id FROM tenants WHERE sending_paused_at IS NOT NULL OR \
         deleting_since IS NOT NULL) ORDER BY CASE WHEN attempts = 0 THEN 0 ELSE 1 END, \
         fair_key LIMIT {LIMIT}{lock}"
    )
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

/// A tenant with one stored message, and `waiting` queued recipients of it plus `sent` sent
/// ones, each with its own place in the fair queue.
async fn queue(store: &Store, waiting: i64, sent: i64) {
    let tenant = Tenant {
        id: TenantId::new(&SystemClock),
        name: TenantName::parse("acme").unwrap(),
        display_name: "Acme".into(),
        created_at: Timestamp(NOW),
    };
    store.create_tenant(&tenant).await.unwrap();
    let message = QueuedMessage {
        id: MessageId::new(&SystemClock),
        tenant_id: tenant.id,
        mail_from: "bounce@client.test".into(),
        recipients: vec![Recipient {
            id: RecipientId::new(&SystemClock),
            address: "first@one.test".into(),
            domain: "one.test".into(),
            state: RecipientState::Sent,
            attempts: 1,
            next_attempt_at: None,
            last_reply: None,
            updated_at: Timestamp(NOW),
        }],
        raw: b"Subject: burst\r\n\r\nbody\r\n".to_vec(),
        signing: SigningRecord::Signed {
            domain: DomainName::parse("client.test").unwrap(),
            selector: Selector::parse("workplace").unwrap(),
        },
        route: Route::Native,
        source: SubmissionSource::Http,
        idempotency_key: None,
        accepted_at: Timestamp(NOW),
        expires_at: Timestamp(NOW + 86_400),
    };
    store.insert_message(&message).await.unwrap();
    // Each recipient's id is a UUID made of its number.
    let (numbers, id) = match store {
        Store::Sqlite(_) => (
            "(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $1) \
             SELECT n FROM g)",
            "printf('%012d', n)",
        ),
        Store::Postgres(_) => (
            "(SELECT generate_series(1, $1) AS n)",
            "lpad(n::text, 12, '0')",
        ),
    };
    let sql = format!(
        "INSERT INTO recipients (id, message_id, tenant_id, position, address, domain, state, \
         attempts, updated_at, fair_key, accepted_at) SELECT '00000000-0000-4000-8000-' || {id}, \
         '{}', '{}', n, \
         'someone@one.test', 'one.test', CASE WHEN n <= $2 THEN 'queued' ELSE 'sent' END, \
         CASE WHEN n <= $2 THEN 0 ELSE 1 END, $3, n, $3 FROM {numbers} AS numbers",
        message.id, tenant.id
    );
    execute(store, &sql, &[waiting + sent, waiting, NOW]).await;
    if let Store::Postgres(_) = store {
        // As autovacuum analyses a table in service.
        execute(store, "ANALYZE recipients", &[]).await;
    }
}

/// The median time of `ROUNDS` runs of `operation`, each on the same queue.
async fn median<F: AsyncFnMut()>(store: &Store, mut operation: F) -> Duration {
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        operation().await;
        times.push(start.elapsed());
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

/// The claim's cost behind `waiting` recipients and `sent` history, and the selection before
/// migration 0031 on the same queue.
async fn measure(store: &Store, waiting: i64, sent: i64) -> (Duration, Duration) {
    queue(store, waiting, sent).await;
    let claim = median(store, async || {
        let claimed = store
            .claim_due("bench", Timestamp(NOW), Timestamp(NOW + 60), LIMIT)
            .await
            .unwrap();
        assert_eq!(claimed.len(), LIMIT as usize);
    })
    .await;
    let before = selection_before(store);
    let before = median(store, async || execute(store, &before, &[NOW]).await).await;
    (claim, before)
}

fn milliseconds(time: Duration) -> f64 {
    time.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut backends = vec![("SQLite", None)];
    if std::env::var("SEALPOST_TEST_POSTGRES_URL").is_ok() {
        backends.push(("PostgreSQL", Some(())));
    }
    for (name, postgres) in backends {
        let mut figures = Vec::new();
        for (waiting, sent) in [(100, 0), (100_000, 100_000)] {
            let directory = tempfile::tempdir().unwrap();
            let url = match postgres {
                None => testing::sqlite_url(directory.path()),
                Some(()) => testing::fresh_postgres_url().await,
            };
            let store = Store::connect(&url).await.unwrap();
            figures.push(measure(&store, waiting, sent).await);
        }
        let [(small, small_before), (large, large_before)] = figures[..] else {
            unreachable!("two queues measured");
        };
        println!(
            "{name}: a claim of {LIMIT} behind 100 waiting {:.2} ms; behind 100,000 waiting and \
             100,000 sent {:.2} ms, {:.1}x the first",
            milliseconds(small),
            milliseconds(large),
            large.as_secs_f64() / small.as_secs_f64()
        );
        println!(
            "{name}: the selection before migration 0031, for reference: {:.2} ms and {:.2} ms, \
             {:.1}x; behind the backlog the claim now takes {:.3} of its time",
            milliseconds(small_before),
            milliseconds(large_before),
            large_before.as_secs_f64() / small_before.as_secs_f64(),
            large.as_secs_f64() / large_before.as_secs_f64()
        );
    }
}
