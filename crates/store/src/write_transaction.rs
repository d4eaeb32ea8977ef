//! Transactions that read before they write.

use std::future::Future;

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Begins a transaction that reads and then writes what it read. SQLite starts a plain `BEGIN`
/// as a reader; when such a transaction then writes, and another connection has committed, or is
/// writing, since its read, SQLite refuses at once ("database is locked") instead of waiting,
/// since waiting could not make the stale read right. `BEGIN IMMEDIATE` takes the write lock
/// first, waiting its turn under the busy timeout, so the read and the write see the same
/// database. PostgreSQL begins as usual and takes no lock at the read: a caller whose write
/// depends on its read makes that write conditional on what it read.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = Sqlite;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Database = Postgres;

    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Postgres>, sqlx::Error>> + Send {
        self.begin()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;

    /// Two connections to one file, a table with one counter in it.
    async fn counter() -> (tempfile::TempDir, SqlitePool) {
        let directory = tempfile::tempdir().unwrap();
        let options: sqlx::sqlite::SqliteConnectOptions =
            crate::testing::sqlite_url(directory.path())
                .parse()
                .unwrap();
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(
                options
                    .create_if_missing(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(5)),
            )
            .await
            .unwrap();
        sqlx::query("CREATE TABLE counter (value INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO counter (value) VALUES (0)")
            .execute(&pool)
            .await
            .unwrap();
        (directory, pool)
    }

    /// Reads the counter in `transaction`.
    async fn read(transaction: &mut Transaction<'static, Sqlite>) -> i64 {
        let (value,): (i64,) = sqlx::query_as("SELECT value FROM counter")
            .fetch_one(&mut **transaction)
            .await
            .unwrap();
        value
    }

    /// Adds 10 to the counter on another connection of the pool.
    fn add_ten_elsewhere(pool: &SqlitePool) -> tokio::task::JoinHandle<Result<(), sqlx::Error>> {
        let pool = pool.clone();
        tokio::spawn(async move {
            sqlx::query("UPDATE counter SET value = value + 10")
                .execute(&pool)
                .await
                .map(drop)
        })
    }

    #[tokio::test]
    async fn a_transaction_that_reads_first_waits_its_turn_to_write() {
        let (_directory, pool) = counter().await;
        let mut transaction = pool.begin_write().await.unwrap();
        let value = read(&mut transaction).await;
        let other = add_ten_elsewhere(&pool);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The other connection cannot write while the transaction holds the write lock.
        assert!(!other.is_finished());
        sqlx::query("UPDATE counter SET value = $1")
            .bind(value + 1)
            .execute(&mut *transaction)
            .await
            .unwrap();
        transaction.commit().await.unwrap();
        other.await.unwrap().unwrap();
        // The other connection waited for the transaction and added to what it wrote.
        let (value,): (i64,) = sqlx::query_as("SELECT value FROM counter")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(value, 11);
    }

    /// A transaction begun as a reader is refused its write once another connection has written
    /// after its read, which is what `begin_write` is for.
    #[tokio::test]
    async fn a_plain_begin_is_refused_after_another_write() {
        let (_directory, pool) = counter().await;
        let mut transaction = pool.begin().await.unwrap();
        let value = read(&mut transaction).await;
        add_ten_elsewhere(&pool).await.unwrap().unwrap();
        let refused = sqlx::query("UPDATE counter SET value = $1")
            .bind(value + 1)
            .execute(&mut *transaction)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("database is locked"),
            "{refused}"
        );
    }
}
