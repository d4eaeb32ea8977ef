//! The statements of one transaction written one after another into a single query, where the
//! database runs such a query in one go. On SQLite every statement is a hand-off to the writing
//! connection's thread and back, and under load each hand-off waits twice: for that thread to be
//! scheduled, then for a runtime worker (busy signing, say) to take the answer. SQLite runs every
//! statement of one query in a single hand-off, so a batch that writes four tables pays one
//! instead of four. PostgreSQL prepares one statement per query, so there each statement runs
//! before the next is written, as it would without a script.

use sqlx::{Database, QueryBuilder};

use crate::Store;

pub(crate) struct Script<DB: Database> {
    pub(crate) query: QueryBuilder<DB>,
    /// Whether statements are gathered into one query (SQLite) or run one by one (PostgreSQL).
    together: bool,
    /// Whether `query` holds a statement not yet run.
    written: bool,
}

impl<DB: Database> Script<DB>
where
    DB::Arguments: Default,
{
    pub(crate) fn new(store: &Store) -> Self {
        Self {
            query: QueryBuilder::new(""),
            together: matches!(store, Store::Sqlite(_)),
            written: false,
        }
    }

    /// Whether statements are gathered until the script runs, rather than each run by itself.
    pub(crate) fn gathers(&self) -> bool {
        self.together
    }

    /// Whether the statement written so far must run before the next one is written.
    pub(crate) fn must_run_first(&self) -> bool {
        self.written && !self.together
    }

    /// The query to write the next statement into, after those written so far.
    pub(crate) fn next(&mut self) -> &mut QueryBuilder<DB> {
        if self.written {
            self.query.push("; ");
        }
        self.written = true;
        &mut self.query
    }

    /// Whether there is anything to run; the script counts as empty afterwards.
    pub(crate) fn take_written(&mut self) -> bool {
        std::mem::replace(&mut self.written, false)
    }
}

/// Runs the statements written into `$script` and not yet run, inside `$transaction`; evaluates
/// to their `Result<(), sqlx::Error>`. A macro because each backend's transaction is its own
/// type.
macro_rules! run_script {
    ($script:expr, $transaction:expr) => {{
        let result: Result<(), sqlx::Error> = if $script.take_written() {
            let result = $script
                .query
                .build()
                .execute(&mut *$transaction)
                .await
                .map(|_| ());
            $script.query.reset();
            result
        } else {
            Ok(())
        };
        result
    }};
}
pub(crate) use run_script;

/// Runs the statements written into `$script` and not yet run, as [`run_script!`] does, and
/// evaluates to the rows they return as `Result<Vec<$row>, sqlx::Error>`. On PostgreSQL a
/// caller fetches after each statement that returns rows, since [`next_statement!`] would run
/// it without its rows.
macro_rules! fetch_script {
    ($script:expr, $transaction:expr, $row:ty) => {{
        let rows: Result<Vec<$row>, sqlx::Error> = if $script.take_written() {
            let rows = $script
                .query
                .build_query_as::<$row>()
                .fetch_all(&mut *$transaction)
                .await;
            $script.query.reset();
            rows
        } else {
            Ok(Vec::new())
        };
        rows
    }};
}
pub(crate) use fetch_script;

/// The query builder to write the next statement of `$script` into. On PostgreSQL the statement
/// written before it runs first, and its error is returned with `?`.
macro_rules! next_statement {
    ($script:expr, $transaction:expr) => {{
        if $script.must_run_first() {
            $crate::script::run_script!($script, $transaction)?;
        }
        $script.next()
    }};
}
pub(crate) use next_statement;
