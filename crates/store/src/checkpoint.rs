//! SQLite's WAL checkpoints, off the request path. A checkpoint copies the WAL's pages into the
//! database file and syncs it. Left to itself SQLite runs one inside whichever commit takes the
//! WAL past `wal_autocheckpoint` pages, so that commit, and every request waiting on it, takes
//! tens of milliseconds longer: the 99th percentile of accept latency (measured with
//! `bench/run`). A serving node calls [`Store::checkpoint`] on a timer instead; the automatic
//! checkpoint stays as the bound on the WAL, at a threshold such a timer never lets it reach.

use crate::{Store, StoreError};

/// The WAL's length, in pages, at which a commit checkpoints by itself: 40 MB of 4 KB pages,
/// many seconds of writes at full speed.
pub(crate) const AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// What one checkpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// Pages in the WAL.
    pub wal_pages: i64,
    /// Of those, the pages now in the database file; fewer while a reader still needs the
    /// older ones.
    pub copied: i64,
}

impl Store {
    /// One passive checkpoint, which waits for no reader or writer: `None` on PostgreSQL, which
    /// has nothing of the kind to do.
    pub async fn checkpoint(&self) -> Result<Option<Checkpointed>, StoreError> {
        let Store::Sqlite(pools) = self else {
            return Ok(None);
        };
        // A reader's connection, so that the writer's queue never waits for a checkpoint: a
        // passive checkpoint writes the database file, not the WAL, which `query_only` allows.
        let (_busy, wal_pages, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(pools.readers())
                .await?;
        Ok(Some(Checkpointed { wal_pages, copied }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{for_each_backend, tenant};

    #[tokio::test]
    async fn commits_leave_the_wal_to_the_checkpoint_which_copies_it_all() {
        for_each_backend(|store| async move {
            let Store::Sqlite(pools) = &store else {
                assert_eq!(store.checkpoint().await.unwrap(), None);
                return;
            };
            let pool = pools.writer();
            let threshold: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(threshold, i64::from(AUTOCHECKPOINT_PAGES));
            store.checkpoint().await.unwrap();
            for index in 0..50 {
                store
                    .create_tenant(&tenant(&format!("tenant{index}")))
                    .await
                    .unwrap();
            }
            let done = store.checkpoint().await.unwrap().unwrap();
            assert!(done.wal_pages >= 50, "{done:?}");
            assert_eq!(done.copied, done.wal_pages, "{done:?}");
        })
        .await;
    }
}
