//! Fresh, isolated databases of both backends for tests of this and other crates. PostgreSQL
//! tests each get their own schema in the shared test database, so they run in parallel without
//! seeing each other; `scripts/test` drops leftover schemas before a run.

use std::path::Path;

use sqlx::{Connection as _, Executor as _, PgConnection};

use sealpost_domain::{
    DomainName, IdempotencyKey, MessageId, QueuedMessage, Recipient, RecipientId, RecipientState,
    Route, Selector, SigningRecord, SubmissionSource, SystemClock, Tenant, TenantId, TenantName,
    Timestamp,
};

use crate::Store;

/// The time the store's tests and benchmarks take as now.
pub const NOW: i64 = 1_800_000_000;

/// A tenant called `name` (shown as `display_name`), created at [`NOW`].
pub fn tenant(name: &str, display_name: &str) -> Tenant {
    Tenant {
        id: TenantId::new(&SystemClock),
        name: TenantName::parse(name).unwrap(),
        display_name: display_name.into(),
        created_at: Timestamp(NOW),
    }
}

/// A signed message of `tenant` accepted at [`NOW`] for `recipients`, each queued and never
/// tried, with the idempotency key `key` if given.
pub fn message(tenant: TenantId, recipients: &[&str], key: Option<&str>) -> QueuedMessage {
    QueuedMessage {
        id: MessageId::new(&SystemClock),
        tenant_id: tenant,
        mail_from: "bounce@client.test".into(),
        raw: b"From: a@client.test\r\n\r\nbody\r\n".to_vec(),
        signing: SigningRecord::Signed {
            domain: DomainName::parse("client.test").unwrap(),
            selector: Selector::parse("workplace").unwrap(),
        },
        route: Route::Native,
        source: SubmissionSource::Http,
        idempotency_key: key.map(|key| IdempotencyKey::parse(key, "f1".repeat(32)).unwrap()),
        accepted_at: Timestamp(NOW),
        expires_at: Timestamp(NOW + 86_400),
        recipients: recipients
            .iter()
            .map(|address| Recipient {
                id: RecipientId::new(&SystemClock),
                address: (*address).to_owned(),
                domain: address.rsplit_once('@').unwrap().1.to_owned(),
                state: RecipientState::Queued,
                attempts: 0,
                next_attempt_at: None,
                last_reply: None,
                updated_at: Timestamp(NOW),
            })
            .collect(),
    }
}

/// The PostgreSQL test database: `SEALPOST_TEST_POSTGRES_URL`, or the local default.
pub fn postgres_url() -> String {
    std::env::var("SEALPOST_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The claim's statement, for benchmarks that set it beside another.
pub use crate::claims::claim_sql;

/// The claim's rule in its plainest SQL, as the claim stood before migration 0031: the due
/// recipients (`$4` being now) in the claim's order, at most `$5`, leased to `$1` until `$2`
/// under the token `$3`. It reads every waiting recipient, so it is the reference that tests
/// check the claim against and that benchmarks time it beside, not a statement to serve with.
pub fn claim_reference_sql(store: &Store) -> String {
    let lock = match store {
        Store::Sqlite(_) => "",
        Store::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    format!(
        "UPDATE recipients SET state = 'sending', lease_owner = $1, lease_until = $2, \
         lease_token = $3 WHERE id IN (SELECT id FROM recipients WHERE ((state IN ('queued', \
         'deferred') AND COALESCE(next_attempt_at, 0) <= $4) OR (state = 'sending' AND \
         lease_until < $4)) AND tenant_id NOT IN (SELECT id FROM tenants WHERE \
         sending_paused_at IS NOT NULL OR deleting_since IS NOT NULL) ORDER BY CASE WHEN \
         attempts = 0 THEN 0 ELSE 1 END, fair_key LIMIT $5{lock}) RETURNING id, message_id, \
         tenant_id, address, domain, attempts, fair_key"
    )
}

/// Prefix of every schema a test creates.
pub const SCHEMA_PREFIX: &str = "sealpost_test_";

/// Creates an empty schema and returns a URL whose connections use it.
pub async fn fresh_postgres_url() -> String {
    let base = postgres_url();
    let schema = format!("{SCHEMA_PREFIX}{}", uuid::Uuid::new_v4().simple());
    let mut connection = PgConnection::connect(&base).await.unwrap_or_else(|error| {
        panic!("PostgreSQL test database {base} is not reachable ({error}); run ./scripts/test, which starts it, or set SEALPOST_TEST_POSTGRES_URL")
    });
    connection
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .expect("create test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// Accepts `count` messages of `tenant`, each to one recipient, in batches of 50, as a node
/// under load accepts them.
pub async fn accept_messages(store: &Store, tenant: TenantId, count: usize) {
    let mut left = count;
    while left > 0 {
        let batch: Vec<QueuedMessage> = (0..left.min(50))
            .map(|_| message(tenant, &["someone@one.test"], None))
            .collect();
        store.insert_messages(&batch).await.unwrap();
        left -= batch.len();
    }
}

/// The queue's tables that a batch of acceptances writes to.
pub const ACCEPTANCE_TABLES: [&str; 4] = ["events", "message_sources", "messages", "recipients"];

/// Turns autovacuum off for `tables` of a PostgreSQL store, for tests of the statistics a node
/// gathers itself: autovacuum would analyse the tables at a moment of its choosing.
pub async fn without_autovacuum(store: &Store, tables: &[&str]) {
    let Store::Postgres(pool) = store else {
        panic!("a PostgreSQL store");
    };
    for table in tables {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} SET (autovacuum_enabled = off)"
        )))
        .execute(pool)
        .await
        .unwrap();
    }
}

/// A SQLite database file URL inside `directory`.
pub fn sqlite_url(directory: &Path) -> String {
    format!("sqlite://{}", directory.join("sealpost.db").display())
}

/// One fresh store per backend: SQLite in `directory`, PostgreSQL in a new schema.
pub async fn fresh_stores(directory: &Path) -> Vec<Store> {
    vec![
        Store::connect(&sqlite_url(directory))
            .await
            .expect("open SQLite"),
        Store::connect(&fresh_postgres_url().await)
            .await
            .expect("open PostgreSQL"),
    ]
}

/// A destination as a node publishes it after a receiver answered 421: backing off (level 1,
/// 5 of 10 connections allowed) and resting for 30 s from `updated_at`.
pub fn throttled_destination(
    node: &str,
    destination: &str,
    updated_at: i64,
) -> crate::DestinationStatus {
    crate::DestinationStatus {
        node: node.to_owned(),
        destination: destination.to_owned(),
        connections_in_use: 2,
        connections_allowed: 5,
        connection_limit: 10,
        messages_per_connection: 100,
        messages_per_minute: 3000,
        throttle_level: 1,
        paused_until: Some(updated_at + 30),
        last_throttle_reply: Some("421 4.7.0 Try again later".to_owned()),
        domains: "gmail.test googlemail.test".to_owned(),
        updated_at,
    }
}

/// [`throttled_destination`] as a node publishes it whose own receiver did not throttle it:
/// level 0, no pause of its own and no throttling reply.
pub fn calm_destination(
    node: &str,
    destination: &str,
    updated_at: i64,
) -> crate::DestinationStatus {
    crate::DestinationStatus {
        throttle_level: 0,
        paused_until: None,
        last_throttle_reply: None,
        ..throttled_destination(node, destination, updated_at)
    }
}
