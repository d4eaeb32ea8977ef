//! A claim's commit does not wait for the disk (`claims.rs`), and it leaves the connection it
//! ran on committing durably again, whether it succeeded or failed.

use sealpost_domain::Timestamp;

use sqlx::Connection;

use crate::claims::{claim_postgres, claim_sql};
use crate::queue_tests::{NOW, message};
use crate::{Store, StoreOptions, testing};

/// How the writing connection commits: SQLite's `synchronous` (2 is `FULL`), PostgreSQL's
/// `synchronous_commit`.
async fn commit_setting(store: &Store) -> String {
    match store {
        Store::Sqlite(pools) => {
            let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(pools.writer())
                .await
                .unwrap();
            level.to_string()
        }
        Store::Postgres(pool) => sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(pool)
            .await
            .unwrap(),
    }
}

/// A claim that leased recipients, on SQLite's one writer and on a PostgreSQL store of one
/// connection, so that the setting is read on the connection the claim ran on.
#[tokio::test]
async fn a_claim_leaves_its_connection_committing_durably() {
    let directory = tempfile::tempdir().unwrap();
    let single = StoreOptions {
        max_connections: Some(1),
        ..StoreOptions::default()
    };
    let stores = [
        testing::sqlite_url(directory.path()),
        testing::fresh_postgres_url().await,
    ];
    for url in stores {
        let store = Store::connect_with(&url, &single).await.unwrap();
        let durable = commit_setting(&store).await;
        let tenant = testing::tenant("acme", "Acme");
        store.create_tenant(&tenant).await.unwrap();
        let queued = message(tenant.id, &["a@one.test", "b@one.test"], None);
        store.insert_message(&queued).await.unwrap();
        let claims = store
            .claim_due("node-a", Timestamp(NOW), Timestamp(NOW + 60), 10)
            .await
            .unwrap();
        assert_eq!(claims.len(), 2);
        assert_eq!(commit_setting(&store).await, durable);
    }
}

/// A claim that fails after SQLite's writer was set to commit without a sync (here because the
/// index it names is gone) does not leave the writer so: it commits durably (`FULL`) again.
#[tokio::test]
async fn a_failed_claim_does_not_leave_sqlite_committing_lazily() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let Store::Sqlite(pools) = &store else {
        unreachable!("a SQLite URL opens SQLite");
    };
    sqlx::query("DROP INDEX recipients_claim_new")
        .execute(pools.writer())
        .await
        .unwrap();
    let refused = store
        .claim_due("node-a", Timestamp(NOW), Timestamp(NOW + 60), 10)
        .await
        .expect_err("the claim names an index that is gone");
    assert!(
        refused.to_string().contains("recipients_claim_new"),
        "{refused}"
    );
    assert_eq!(commit_setting(&store).await, "2");
}

/// On PostgreSQL the claim turns the wait off for its own transaction, also when what was
/// served does not move (here it is far past the claimed places), and only for it: the
/// connection waits again once the transaction has ended.
#[tokio::test]
async fn a_postgres_claim_turns_the_wait_off_for_its_own_transaction_only() {
    let store = Store::connect(&testing::fresh_postgres_url().await)
        .await
        .unwrap();
    let tenant = testing::tenant("acme", "Acme");
    store.create_tenant(&tenant).await.unwrap();
    let queued = message(tenant.id, &["a@one.test", "b@one.test"], None);
    store.insert_message(&queued).await.unwrap();
    let Store::Postgres(pool) = &store else {
        unreachable!("a PostgreSQL URL opens PostgreSQL");
    };
    let mut connection = pool.acquire().await.unwrap();
    sqlx::query("SET synchronous_commit = on")
        .execute(&mut *connection)
        .await
        .unwrap();
    let mut transaction = connection.begin().await.unwrap();
    sqlx::query("UPDATE queue_clock SET served = 1000000000000 WHERE id = 1")
        .execute(&mut *transaction)
        .await
        .unwrap();
    let claimed = sqlx::query(sqlx::AssertSqlSafe(claim_postgres(&claim_sql(&store))))
        .bind("node-a")
        .bind(NOW + 60)
        .bind("token")
        .bind(NOW)
        .bind(10_i64)
        .fetch_all(&mut *transaction)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let during: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut *transaction)
        .await
        .unwrap();
    assert_eq!(during, "off");
    transaction.rollback().await.unwrap();
    let after: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    assert_eq!(after, "on");
}
