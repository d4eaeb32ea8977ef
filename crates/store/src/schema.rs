//! The schema's state, read without changing it: which of this version's migrations the
//! database has applied, for `sealpost doctor` (which must not migrate what it inspects).

use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::connect::Backend;
use crate::{SqlitePools, Store, StoreError};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// This version's migrations against those the database records as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaState {
    /// Versions this build knows and the database has not applied.
    pub pending: Vec<i64>,
    /// Versions the database applied that this build does not know: a newer Sealpost ran.
    pub unknown: Vec<i64>,
}

impl SchemaState {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

impl Store {
    /// Connects without creating the database and without migrating it, with one connection.
    pub async fn connect_to_inspect(url: &str) -> Result<Self, StoreError> {
        let store = match Backend::from_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|error| StoreError::Url(error.to_string()))?
                    .create_if_missing(false);
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await
                    .map_err(|error| StoreError::Unreachable(error.to_string()))?;
                Store::Sqlite(SqlitePools::single(pool))
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url)
                    .map_err(|error| StoreError::Url(error.to_string()))?;
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(std::time::Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|error| StoreError::Unreachable(error.to_string()))?;
                Store::Postgres(pool)
            }
        };
        Ok(store)
    }

    /// Compares the applied migrations with this build's; a database never migrated has none.
    pub async fn schema_state(&self) -> Result<SchemaState, StoreError> {
        let (migrator, exists_query) = match self {
            Store::Sqlite(_) => (
                &SQLITE,
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name = '_sqlx_migrations'",
            ),
            Store::Postgres(_) => (
                &POSTGRES,
                "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() \
                 AND tablename = '_sqlx_migrations'",
            ),
        };
        let (tables,): (i64,) = crate::with_reader!(self, pool => {
            sqlx::query_as(exists_query).fetch_one(pool).await?
        });
        let applied: Vec<i64> = match tables {
            0 => Vec::new(),
            _ => crate::with_reader!(self, pool => {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await?
            }),
        };
        let known: Vec<i64> = migrator
            .iter()
            .filter(|migration| !migration.migration_type.is_down_migration())
            .map(|migration| migration.version)
            .collect();
        Ok(SchemaState {
            pending: known
                .iter()
                .filter(|version| !applied.contains(version))
                .copied()
                .collect(),
            unknown: applied
                .iter()
                .filter(|version| !known.contains(version))
                .copied()
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::testing::{fresh_postgres_url, fresh_stores};

    #[tokio::test]
    async fn a_migrated_database_is_current_and_an_empty_one_has_everything_pending() {
        let directory = tempfile::tempdir().unwrap();
        for store in fresh_stores(directory.path()).await {
            let state = store.schema_state().await.unwrap();
            assert!(state.is_current(), "{:?}: {state:?}", store.backend());
        }
        let url = format!("sqlite://{}", directory.path().join("empty.db").display());
        assert!(
            Store::connect_to_inspect(&url).await.is_err(),
            "a missing database file is not created"
        );
        std::fs::File::create(directory.path().join("empty.db")).unwrap();
        for url in [url, fresh_postgres_url().await] {
            let empty = Store::connect_to_inspect(&url).await.unwrap();
            let state = empty.schema_state().await.unwrap();
            assert!(
                !state.pending.is_empty() && state.unknown.is_empty(),
                "{:?}: {state:?}",
                empty.backend()
            );
        }
    }
}
