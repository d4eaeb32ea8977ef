//! Opening a database from its URL, with the durability settings each backend needs, and
//! running that backend's migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Url(format!(
                "{url:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE"
            )))
        }
    }
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = match Backend::from_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|error| StoreError::Url(error.to_string()))?
                    .create_if_missing(true)
                    // WAL with synchronous=FULL makes every commit durable before it returns,
                    // which is what lets us acknowledge work only after the commit.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await?;
                sqlx::migrate!("migrations/sqlite").run(&pool).await?;
                Store::Sqlite(pool)
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url)
                    .map_err(|error| StoreError::Url(error.to_string()))?;
                let pool = PgPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                sqlx::migrate!("migrations/postgres").run(&pool).await?;
                Store::Postgres(pool)
            }
        };
        Ok(store)
    }
}
