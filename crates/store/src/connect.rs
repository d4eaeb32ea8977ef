//! Opening a database from its URL, with the durability settings each backend needs, and
//! running that backend's migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{SqlitePools, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Rows an SQLite connection's thread may hand over before the reader takes them: more than a
/// list page's query returns (a page of 50 reads 51 rows to know whether another follows).
const ROW_BUFFER_SIZE: usize = 512;

/// Prepared statements a connection keeps, unless the URL sets `statement-cache-capacity`. The
/// writer's batch statements alone take up to eleven shapes each (`batch::runs`), which with the
/// rest passed sqlx's default of 100; a statement pushed out is prepared again at its next use,
/// a round trip more. On SQLite an entry is a whole script (`script.rs`), one per sequence of
/// runs a batch makes: under `bench/run` they fit, and preparing each script for its one use
/// instead measured slower than before scripts.
const STATEMENT_CACHE: usize = 256;

/// Whether the URL leaves the statement cache's size to this crate.
fn default_statement_cache(url: &str) -> bool {
    !url.contains("statement-cache-capacity")
}

/// How long an SQLite write waits for its turn: another process's write, or this process's
/// writer connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Pool and statement limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Connections in the pool; `None` picks 4 for SQLite, which has one more connection for
    /// every write (see [`SqlitePools`]), and 10 for PostgreSQL (a share of its
    /// `max_connections` per node).
    pub max_connections: Option<u32>,
    /// PostgreSQL only: a statement running longer is cancelled, so a locked or overloaded
    /// database turns into an error a caller can report instead of a request that hangs.
    pub statement_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl Store {
    /// Connects with the default options and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &StoreOptions::default()).await
    }

    /// Connects and brings the schema up to date.
    pub async fn connect_with(url: &str, settings: &StoreOptions) -> Result<Self, StoreError> {
        let store = match Backend::from_url(url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|error| StoreError::Url(error.to_string()))?
                    .create_if_missing(true)
                    // WAL with synchronous=FULL makes every commit durable before it returns,
                    // which is what lets us acknowledge work only after the commit.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(BUSY_TIMEOUT)
                    .foreign_keys(true)
                    // Deleted content is overwritten with zeros rather than left in free pages,
                    // so a deleted tenant's rows (SPEC S11.5) cannot be read back from the file.
                    // It costs a write of each freed page, which deletions already dirty.
                    .pragma("secure_delete", "ON")
                    // A serving node checkpoints on a timer, off the request path (see
                    // `checkpoint.rs`); commits only do it past this bound.
                    .pragma(
                        "wal_autocheckpoint",
                        crate::checkpoint::AUTOCHECKPOINT_PAGES.to_string(),
                    )
                    // The connection's thread hands rows over through a channel of this size.
                    // At the default (50) the 51st row of a list page stopped the thread until
                    // the page's task had taken rows, one more hand-off between threads.
                    .row_buffer_size(ROW_BUFFER_SIZE);
                let options = match default_statement_cache(url) {
                    true => options.statement_cache_capacity(STATEMENT_CACHE),
                    false => options,
                };
                // A pooled SQLite connection is a file in this process, not a socket whose peer
                // can hang up, so the ping that tests a connection before each use can never
                // find it broken; it would only add a round trip to the connection's thread to
                // every query.
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    // A write waits for its turn as long as it used to wait in the busy handler
                    // (the busy timeout above), then fails, rather than sqlx's default 30 s.
                    .acquire_timeout(BUSY_TIMEOUT)
                    .test_before_acquire(false)
                    .connect_with(options.clone())
                    .await?;
                sqlx::migrate!("migrations/sqlite").run(&writer).await?;
                let readers = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections.unwrap_or(4))
                    .test_before_acquire(false)
                    .connect_with(options.pragma("query_only", "ON"))
                    .await?;
                Store::Sqlite(SqlitePools { writer, readers })
            }
            Backend::Postgres => {
                let timeout = format!("{}ms", settings.statement_timeout.as_millis());
                let plain = PgConnectOptions::from_str(url)
                    .map_err(|error| StoreError::Url(error.to_string()))?;
                // One direct connection first: the pool would only report a timeout after ten
                // seconds, while this names the cause (refused, unknown host, bad password) at
                // once. It also runs the migrations, without the statement timeout: a migration
                // may rightly take longer than any query (an index on a large table), and it
                // waits for other nodes' migrations to finish.
                // Before anything else, migrations included: through a pooler that mixes up
                // prepared statements, they could fail halfway or read wrong answers.
                crate::pooler_check::check(&plain).await?;
                let mut first = PgConnection::connect_with(&plain)
                    .await
                    .map_err(|error| StoreError::Unreachable(error.to_string()))?;
                sqlx::migrate!("migrations/postgres")
                    .run(&mut first)
                    .await?;
                first.close().await.ok();
                let options = match default_statement_cache(url) {
                    true => plain.statement_cache_capacity(STATEMENT_CACHE),
                    false => plain,
                };
                let options = options.options([("statement_timeout", timeout.as_str())]);
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections.unwrap_or(10))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                Store::Postgres(pool)
            }
        };
        store.fill_missing_subjects().await?;
        Ok(store)
    }
}
