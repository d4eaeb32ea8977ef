//! SQLite's one writing connection and its reading connections ([`crate::SqlitePools`]).

use std::time::Duration;

use sealpost_domain::{DkimVerdict, Timestamp};

use crate::queue_tests::message;
use crate::{Store, testing};

async fn sqlite_store() -> (tempfile::TempDir, Store) {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    (directory, store)
}

/// A write sent to the reading connections by mistake fails at once and stores nothing, instead
/// of taking the write lock beside the writer; the same write through the writer lands, and the
/// readers see it.
#[tokio::test]
async fn a_write_on_a_reading_connection_is_refused_and_stores_nothing() {
    let (_directory, store) = sqlite_store().await;
    let Store::Sqlite(pools) = &store else {
        unreachable!("a SQLite URL opens SQLite");
    };
    let insert = "INSERT INTO meta (key, value) VALUES ('probe', x'01')";
    let error = sqlx::query(insert)
        .execute(pools.readers())
        .await
        .expect_err("a reading connection refuses to write");
    assert!(
        error
            .to_string()
            .contains("attempt to write a readonly database"),
        "{error}"
    );
    assert_eq!(store.meta("probe").await.unwrap(), None);
    sqlx::query(insert).execute(pools.writer()).await.unwrap();
    assert_eq!(store.meta("probe").await.unwrap(), Some(vec![1]));
}

/// The writer is one connection, and writes from many tasks at once each wait for it: every one
/// lands, none is refused as busy, and each is visible to the readers once it has returned.
#[tokio::test]
async fn writes_from_many_tasks_take_turns_on_one_connection() {
    let (_directory, store) = sqlite_store().await;
    let Store::Sqlite(pools) = &store else {
        unreachable!("a SQLite URL opens SQLite");
    };
    assert_eq!(pools.writer().options().get_max_connections(), 1);
    // A write waits its turn no longer than it would wait for another process's lock.
    assert_eq!(
        pools.writer().options().get_acquire_timeout(),
        std::time::Duration::from_secs(10)
    );
    let writes = (0..64).map(|index| {
        let store = store.clone();
        tokio::spawn(async move {
            let key = format!("key{index}");
            let stored = store.meta_insert_if_absent(&key, &[index]).await.unwrap();
            assert_eq!(stored, vec![index]);
        })
    });
    for write in writes.collect::<Vec<_>>() {
        write.await.unwrap();
    }
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM meta WHERE key LIKE 'key%'")
        .fetch_one(pools.readers())
        .await
        .unwrap();
    assert_eq!(count, 64);
}

/// Looking at a message again records its unchanged DKIM verdict without the writer: while
/// another task holds the writing connection, the repeated verdict returns at once, and a
/// changed one waits for its turn.
#[tokio::test]
async fn an_unchanged_dkim_verdict_does_not_wait_for_the_writer() {
    let (_directory, store) = sqlite_store().await;
    let Store::Sqlite(pools) = &store else {
        unreachable!("a SQLite URL opens SQLite");
    };
    let acme = crate::tests::tenant("acme");
    store.create_tenant(&acme).await.unwrap();
    let tenant = acme.id;
    let queued = message(tenant, &["someone@receiver.test"], None);
    store.insert_message(&queued).await.unwrap();
    store
        .record_dkim_verdict(tenant, queued.id, DkimVerdict::Pass, Timestamp(7))
        .await
        .unwrap();
    let held = pools.writer().acquire().await.unwrap();
    let again = store.record_dkim_verdict(tenant, queued.id, DkimVerdict::Pass, Timestamp(8));
    tokio::time::timeout(Duration::from_secs(5), again)
        .await
        .expect("an unchanged verdict needs no writer")
        .unwrap();
    let changed = store.record_dkim_verdict(tenant, queued.id, DkimVerdict::Fail, Timestamp(9));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), changed)
            .await
            .is_err(),
        "a changed verdict waits for the writer"
    );
    drop(held);
    store
        .record_dkim_verdict(tenant, queued.id, DkimVerdict::Fail, Timestamp(9))
        .await
        .unwrap();
    let summary = store.message_summary(tenant, queued.id).await.unwrap();
    assert_eq!(summary.dkim_verdict, Some(DkimVerdict::Fail));
}
