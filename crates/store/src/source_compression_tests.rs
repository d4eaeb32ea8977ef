//! PostgreSQL compresses stored sources with lz4 (migration 0030), not with its slower default.
//! The test database's server is PostgreSQL 14 or later and has lz4.

use crate::Backend;
use crate::queue_tests::{message, stores_with_tenant};

#[tokio::test]
async fn postgres_compresses_sources_with_lz4() {
    let (_directory, stores) = stores_with_tenant().await;
    let (store, tenant) = stores
        .into_iter()
        .find(|(store, _)| store.backend() == Backend::Postgres)
        .expect("the tests have a PostgreSQL store");
    // A source long enough to be compressed, and compressible.
    let mut long = message(tenant, &["a@receiver.test"], None);
    long.raw = b"From: a@client.test\r\n\r\n".to_vec();
    long.raw
        .extend(b"The boiler in building B has been serviced.\r\n".repeat(200));
    store.insert_messages(&[long]).await.unwrap();
    let (stored, declared): (Option<String>, Vec<String>) = with_reader!(&store, pool => {
        let stored = sqlx::query_scalar("SELECT pg_column_compression(raw) FROM message_sources")
            .fetch_one(pool)
            .await
            .unwrap();
        // The mail tester's reports keep their sources the same way.
        let declared = sqlx::query_scalar(
            "SELECT CAST(attrelid::regclass AS TEXT) || ' ' || CAST(attcompression AS TEXT) \
             FROM pg_attribute WHERE attname = 'raw' \
             AND attrelid IN ('message_sources'::regclass, 'checker_reports'::regclass) \
             ORDER BY 1",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        (stored, declared)
    });
    assert_eq!(stored.as_deref(), Some("lz4"));
    assert_eq!(declared, ["checker_reports l", "message_sources l"]);
}
