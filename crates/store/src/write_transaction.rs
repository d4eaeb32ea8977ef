//! Transactions that read before they write.

use std::future::Future;

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Begins a transaction that reads and then writes what it read. SQLite starts a plain `BEGIN`
/// as a reader; when such a transaction then writes, and another connection has committed since
/// its read, SQLite refuses at once ("database is locked") instead of waiting, since waiting
/// could not make the stale read right. `BEGIN IMMEDIATE` takes the write lock first, waiting its
/// turn under the busy timeout, so the read and the write see the same database. PostgreSQL
/// begins as usual: its statements lock the rows they change.
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

    /// Reads the counter in `transaction`, lets another connection add 10 to it meanwhile, then
    /// writes what it read plus one and commits.
    async fn read_then_write(
        pool: &SqlitePool,
        mut transaction: Transaction<'static, Sqlite>,
    ) -> Result<(), sqlx::Error> {
        let (value,): (i64,) = sqlx::query_as("SELECT value FROM counter")
            .fetch_one(&mut *transaction)
            .await?;
        let other = tokio::spawn({
            let pool = pool.clone();
            async move {
                sqlx::query("UPDATE counter SET value = value + 10")
                    .execute(&pool)
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let written = sqlx::query("UPDATE counter SET value = $1")
            .bind(value + 1)
            .execute(&mut *transaction)
            .await;
        let committed = match written {
            Ok(_) => transaction.commit().await,
            Err(error) => Err(error),
        };
        other.await.unwrap()?;
        committed
    }

    #[tokio::test]
    async fn a_transaction_that_reads_first_waits_its_turn_to_write() {
        let (_directory, pool) = counter().await;
        let transaction = pool.begin_write().await.unwrap();
        read_then_write(&pool, transaction).await.unwrap();
        // The other connection waited for the transaction and added to what it wrote.
        let (value,): (i64,) = sqlx::query_as("SELECT value FROM counter")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(value, 11);
    }

    /// Why: begun as a reader, the same transaction is refused once another connection has
    /// written after its read.
    #[tokio::test]
    async fn a_plain_begin_is_refused_after_another_write() {
        let (_directory, pool) = counter().await;
        let transaction = pool.begin().await.unwrap();
        let refused = read_then_write(&pool, transaction).await.unwrap_err();
        assert!(
            refused.to_string().contains("database is locked"),
            "{refused}"
        );
    }
}
