//! Storage: SQLite (the embedded default) and PostgreSQL behind one enum, so the compiler checks
//! that every backend implements every operation. The SQL is written once with `$N` placeholders,
//! which both backends accept. Every operation on a tenant's data takes the tenant first and
//! filters by it, so no query can reach another tenant's rows.

mod acceptance;
mod batch;
mod checker;
mod checkpoint;
mod claims;
mod connect;
mod contacts;
mod delivery_settings;
mod destinations;
mod dkim_zone;
mod domain_records;
mod feedback;
mod figures;
mod held_mail;
mod key_rotation;
mod leases;
mod mailing_lists;
mod mailings;
mod master_key_rotation;
mod message_rows;
mod outcomes;
mod paging;
mod pooler_check;
mod queue;
mod reputation;
mod return_paths;
mod rows;
mod schema;
mod script;
mod sending_counts;
mod sending_domains;
mod signing_domain_rows;
mod signing_domains;
mod signing_keys;
mod statistics;
mod subjects;
mod summaries;
mod suppressions;
mod tenant_deletion;
mod tenants;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod users;
mod webhook_outbox;
mod webhooks;
mod work_signal;
mod write_transaction;

pub use checkpoint::Checkpointed;
pub use claims::Claim;
pub use connect::{Backend, StoreOptions};
pub use contacts::{ContactDeletion, ContactMailing};
pub use destinations::DestinationStatus;
pub use dkim_zone::ServedKey;
pub use feedback::FeedbackChange;
pub use key_rotation::RotationCandidate;
pub use mailing_lists::{DraftDeletion, MailingFilter};
pub use master_key_rotation::{
    AUTHENTICATOR_ROOT, MASTER_KEY_CHECK, RewrapCursor, RewrappedValue, RotationPhase,
    RotationRecord, RotationStart, SealedColumn, SealedRow,
};
pub use outcomes::{AttemptInfo, AttemptRecord, RecipientUpdate};
pub use paging::{Cursor, MAX_PAGE, Page, PageRequest};
pub use reputation::TenantStanding;
pub use schema::SchemaState;
pub use signing_keys::DomainEventRecord;
pub use statistics::UnanalysedTable;
pub use summaries::MessageFilter;
pub use suppressions::KEPT_LIST_LENGTH;
pub use tenants::ApiKeyInfo;
pub use users::TenantKey;
pub use webhook_outbox::WebhookAttemptRecord;
pub use webhooks::{
    OutboxDelivery, OutboxNext, SealedWebhookSecrets, WebhookAttempt, WebhookDeliveryRecord,
};
pub use work_signal::WorkListener;

use sqlx::{PgPool, SqlitePool};

/// A connection pool to the configured database.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the row; the message says which fact already exists.
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("not found")]
    NotFound,
    /// The row changed since it was read, or its state forbids the change; the message says how.
    #[error("{0}")]
    Changed(&'static str),
    #[error("PostgreSQL is not reachable: {0}")]
    Unreachable(String),
    #[error("the database URL is not understood: {0}")]
    Url(String),
    /// The connection pooler in front of PostgreSQL hands prepared statements to the wrong
    /// clients; the message says which settings work.
    #[error("{0}")]
    Pooler(String),
    #[error("the database holds a value Sealpost cannot read ({0}); was it edited by hand?")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// A column that does not decode (an id that is not a UUID, say) is a corrupt row, as every other
/// value that does not convert.
impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::ColumnDecode { index, source } => {
                Self::Corrupt(format!("column {index}: {source}"))
            }
            sqlx::Error::Decode(source) => Self::Corrupt(source.to_string()),
            other => Self::Database(other),
        }
    }
}

impl StoreError {
    /// Turns a unique-constraint violation into [`StoreError::Duplicate`] naming `what`.
    fn duplicate_as(error: sqlx::Error, what: &'static str) -> Self {
        match &error {
            sqlx::Error::Database(database) if database.is_unique_violation() => {
                Self::Duplicate(what)
            }
            _ => Self::from(error),
        }
    }
}

/// SQLite's connections: one that writes and several that only read. SQLite lets one
/// connection write at a time; a second writer does not queue but sleeps in the busy handler (1,
/// 2, 5, 10 and up to 100 ms) and retries however soon the lock is freed, away from the pool all
/// the while: under `bench/run` four connections that all wrote spent a fifth of their time
/// asleep that way. A pool of one connection for every write hands the write turn on in the
/// order it was asked for (the pool is fair), and the readers, opened `query_only`, refuse any
/// write sent to them by mistake with an error instead of letting it take the lock beside the
/// writer. This orders the writes of one process; another process on the same file (the CLI)
/// still takes its turn through the busy handler.
#[derive(Debug, Clone)]
pub struct SqlitePools {
    writer: SqlitePool,
    readers: SqlitePool,
}

impl SqlitePools {
    /// A store that reads and writes through the same pool, for tools that open a database
    /// only to inspect it.
    pub(crate) fn single(pool: SqlitePool) -> Self {
        Self {
            writer: pool.clone(),
            readers: pool,
        }
    }

    /// The one connection that writes.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The connections that only read.
    pub fn readers(&self) -> &SqlitePool {
        &self.readers
    }
}

/// Runs the same block against one side of the store's pools (`writer` or `readers`, see
/// [`SqlitePools`]), whichever backend the store has; PostgreSQL has one pool for both. The block
/// is compiled once per backend, so a query that one backend cannot type-check fails the build.
macro_rules! with_pools {
    ($store:expr, $side:ident, $pool:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite(pools) => {
                let $pool = pools.$side();
                $body
            }
            $crate::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pools;

/// Runs the block against the pool that writes: on SQLite, every statement that writes runs here.
macro_rules! with_writer {
    ($store:expr, $pool:ident => $body:expr) => {
        $crate::with_pools!($store, writer, $pool => $body)
    };
}
pub(crate) use with_writer;

/// Runs the block against the connections that only read: on SQLite a write sent here fails
/// ("attempt to write a readonly database").
macro_rules! with_reader {
    ($store:expr, $pool:ident => $body:expr) => {
        $crate::with_pools!($store, readers, $pool => $body)
    };
}
pub(crate) use with_reader;

impl Store {
    /// A value from the key/value table of facts about the installation itself.
    pub async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let value: Option<(Vec<u8>,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(value.map(|(value,)| value))
    }

    /// Stores `value` under `key` unless a value is there already; returns the value that is
    /// stored afterwards, so concurrent first starts of several nodes agree on one value.
    pub async fn meta_insert_if_absent(
        &self,
        key: &str,
        value: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        with_writer!(self, pool => {
            sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                .bind(key)
                .bind(value)
                .execute(pool)
                .await?;
        });
        self.meta(key)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("meta key {key} vanished")))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pools) => {
                // The writer closes last: the last connection to close checkpoints the WAL
                // into the database file and removes it.
                pools.readers.close().await;
                pools.writer.close().await;
            }
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod acceptance_tests;
#[cfg(test)]
mod claim_commit_tests;
#[cfg(test)]
mod claim_order_tests;
#[cfg(test)]
mod dkim_zone_version_tests;
#[cfg(test)]
mod domain_record_tests;
#[cfg(test)]
mod drain_and_lease_tests;
#[cfg(test)]
mod ed25519_key_tests;
#[cfg(test)]
mod held_mail_tests;
#[cfg(test)]
mod list_tests;
#[cfg(test)]
mod mailing_tests;
#[cfg(test)]
mod master_key_rotation_tests;
#[cfg(test)]
mod outcome_tests;
#[cfg(test)]
mod padded_list_tests;
#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod read_path_tests;
#[cfg(test)]
mod return_path_tests;
#[cfg(test)]
mod sending_count_tests;
#[cfg(test)]
mod sending_version_tests;
#[cfg(test)]
mod signing_domain_tests;
#[cfg(test)]
mod signing_key_migration_tests;
#[cfg(test)]
mod source_compression_tests;
#[cfg(test)]
mod sqlite_pools_tests;
#[cfg(test)]
mod statistics_tests;
#[cfg(test)]
mod suppression_tests;
#[cfg(test)]
mod tenant_deletion_fixture;
#[cfg(test)]
mod tenant_deletion_tests;
#[cfg(test)]
mod tests;
