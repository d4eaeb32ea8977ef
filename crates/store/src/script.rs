//! The statements of one transaction written one after another into a single query, where the
//! database runs such a query in one go. On SQLite every statement is a hand-off to the writing
//! connection's thread and back, and under load each hand-off waits twice: for that thread to be
//! scheduled, then for a runtime worker (busy signing, say) to take the answer. SQLite runs every
//! statement of one query in a single hand-off, so a batch that writes four tables pays one
//! instead of four. PostgreSQL prepares one statement per query, so there each statement runs
//! before the next is written, as it would without a script, except in a script of independent
//! writes: those become the data-modifying `WITH` clauses of one statement, one round trip.

use sqlx::{Database, QueryBuilder};

use crate::Store;
use crate::batch::{MAX_ROWS, MOST_COLUMNS};

/// The most statements a PostgreSQL script of independent writes gathers before it runs them:
/// as many as stay under PostgreSQL's 65,535 bound values per statement when each binds the
/// most a statement of many rows can (`batch.rs`).
const MOST_GATHERED: usize = 65_535 / (MAX_ROWS * MOST_COLUMNS);

/// The most bytes of large values (message sources) one query carries, unless a single value is
/// larger: a query is one protocol message, which PostgreSQL refuses past 1 GB, and a few large
/// sources gain nothing from sharing one.
pub(crate) const MOST_CARRIED_BYTES: usize = 4 << 20;

/// A script of clauses whose statements are this many at most is kept prepared on PostgreSQL:
/// an accepted batch of up to 16 messages (messages, sources, recipients and events, the runs of
/// 8 rows and the rest of each). A longer one, from a burst of large batches, has a shape of its
/// own almost every time, and would push the statements every request runs out of the
/// connection's cache of 256.
const MOST_KEPT_CLAUSES: usize = 8;

/// How the statements of a script reach the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gathering {
    /// SQLite: one query of statements separated by `;`, run in order.
    Script,
    /// PostgreSQL, independent writes: `WITH s0 AS (...), s1 AS (...) SELECT 1`. The clauses
    /// share one snapshot and run in no set order, so none may read or change what another
    /// writes; each runs to completion although nothing reads its rows. Foreign keys between
    /// them hold: PostgreSQL checks them when the whole statement has run, and the check sees
    /// the rows the statement inserted (a recipient's message, say).
    Clauses,
    /// PostgreSQL: each statement runs by itself before the next is written.
    Alone,
}

pub(crate) struct Script<DB: Database> {
    pub(crate) query: QueryBuilder<DB>,
    gathering: Gathering,
    /// How many statements `query` holds that have not run yet.
    written: usize,
    /// The bytes of large values those statements carry, as their writers count them.
    carried: usize,
    /// Whether the query taken last is kept prepared on its connection.
    kept: bool,
}

impl<DB: Database> Script<DB>
where
    DB::Arguments: Default,
{
    /// A script whose statements may depend on each other: on PostgreSQL each runs alone.
    pub(crate) fn new(store: &Store) -> Self {
        Self::gathering(match store {
            Store::Sqlite(_) => Gathering::Script,
            Store::Postgres(_) => Gathering::Alone,
        })
    }

    /// A script of statements that only add or change rows no other statement of it reads or
    /// changes (new messages, their recipients, their events): on PostgreSQL they are gathered
    /// into one statement too. Its rows are not fetched.
    pub(crate) fn independent_writes(store: &Store) -> Self {
        Self::gathering(match store {
            Store::Sqlite(_) => Gathering::Script,
            Store::Postgres(_) => Gathering::Clauses,
        })
    }

    fn gathering(gathering: Gathering) -> Self {
        Self {
            query: QueryBuilder::new(""),
            gathering,
            written: 0,
            carried: 0,
            kept: true,
        }
    }

    /// Whether statements are gathered until the script runs, rather than each run by itself.
    pub(crate) fn gathers(&self) -> bool {
        self.gathering != Gathering::Alone
    }

    /// Whether writing a statement that carries `bytes` of large values would take the query
    /// past [`MOST_CARRIED_BYTES`]: then what is written runs first.
    pub(crate) fn would_carry_too_much(&self, bytes: usize) -> bool {
        self.carried > 0 && self.carried + bytes > MOST_CARRIED_BYTES
    }

    /// Counts `bytes` of large values the statement just written carries.
    pub(crate) fn carry(&mut self, bytes: usize) {
        self.carried += bytes;
    }

    /// Whether the query taken last is prepared once and kept on its connection.
    pub(crate) fn kept(&self) -> bool {
        self.kept
    }

    /// Whether running the script gives the rows of its statements; clauses give none.
    pub(crate) fn returns_rows(&self) -> bool {
        self.gathering != Gathering::Clauses
    }

    /// Whether the statements of one query run in the order they were written. Clauses do
    /// not, so rows whose order matters (events, numbered as they are inserted) go in one
    /// clause at most per query.
    pub(crate) fn keeps_order(&self) -> bool {
        self.gathering != Gathering::Clauses
    }

    /// Whether what is written so far must run before the next statement is written.
    pub(crate) fn must_run_first(&self) -> bool {
        match self.gathering {
            Gathering::Script => false,
            Gathering::Clauses => self.written >= MOST_GATHERED,
            Gathering::Alone => self.written > 0,
        }
    }

    /// The query to write the next statement into, after those written so far.
    pub(crate) fn next(&mut self) -> &mut QueryBuilder<DB> {
        match (self.gathering, self.written) {
            (Gathering::Script, 0) | (Gathering::Alone, _) => {}
            (Gathering::Script, _) => {
                self.query.push("; ");
            }
            (Gathering::Clauses, 0) => {
                self.query.push("WITH s0 AS (");
            }
            (Gathering::Clauses, written) => {
                self.query.push(format_args!("), s{written} AS ("));
            }
        }
        self.written += 1;
        &mut self.query
    }

    /// Whether there is anything to run, with the query completed to run it; the script counts
    /// as empty afterwards.
    pub(crate) fn take_written(&mut self) -> bool {
        let written = std::mem::replace(&mut self.written, 0);
        self.carried = 0;
        self.kept = true;
        if written > 0 && self.gathering == Gathering::Clauses {
            self.query.push(") SELECT 1");
            self.kept = written <= MOST_KEPT_CLAUSES;
        }
        written > 0
    }
}

/// Runs the statements written into `$script` and not yet run, inside `$transaction`; evaluates
/// to their `Result<(), sqlx::Error>`. A macro because each backend's transaction is its own
/// type.
macro_rules! run_script {
    ($script:expr, $transaction:expr) => {{
        let result: Result<(), sqlx::Error> = if $script.take_written() {
            let kept = $script.kept();
            let result = $script
                .query
                .build()
                .persistent(kept)
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
        debug_assert!(
            $script.returns_rows(),
            "a script of clauses returns no rows"
        );
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
