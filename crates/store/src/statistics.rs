//! A table's first statistics on PostgreSQL. The planner chooses each plan from the statistics
//! that `ANALYZE` gathers. A table that has never been analysed has none, so the planner takes
//! a condition on a tenant or a list of ids to match a row or two. A plan made then reads a
//! whole table, or every row of a tenant, where an index would find the few rows asked for:
//! the claim's read of its messages was a scan of `messages` and of `message_sources`. Worse, a
//! connection keeps the generic plan of a prepared statement once it has run it a few times.
//!
//! Autovacuum analyses a table once 50 of its rows have changed, but only on its next round,
//! up to a minute (`autovacuum_naptime`) later. A node set up on an empty database accepts tens
//! of thousands of messages in that minute: one node of `bench/run --postgres` delivered 875 to
//! 1,319 msg/s without the early analysis, depending on when autovacuum came round, and 1,216
//! to 1,301 with it (six runs each, alternating). So a node on PostgreSQL analyses a table of
//! its schema the first time it has changed by [`FIRST_ANALYSIS_ROWS`] rows; later analyses
//! stay with autovacuum, which then runs them on time. Every node does so; a node passes over a
//! table that another node or autovacuum is analysing at that moment.

use crate::{Store, StoreError};

/// Rows a never analysed table must have changed by before a node analyses it: enough for
/// statistics that say how the rows are spread, few enough that they come within seconds of a
/// new node's first mail.
pub(crate) const FIRST_ANALYSIS_ROWS: i64 = 500;

/// A table of the store's schema that has never been analysed, named as the catalogue names it,
/// with its schema, each quoted by PostgreSQL for a statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnanalysedTable(String);

impl UnanalysedTable {
    /// The table's name as it appears in a statement.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The tables of the schema the migrations created their tables in that have changed by at
/// least `$1` rows and never been analysed or vacuumed (a negative `reltuples`, which the
/// catalogue keeps, unlike the activity counters, which a crash or `pg_stat_reset` clears), and
/// that the node's role may analyse: those of a role it is a member of (a superuser is a member
/// of every role). PostgreSQL would only warn about another's.
const UNANALYSED_SQL: &str = "SELECT format('%I.%I', s.schemaname, s.relname) \
     FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
     WHERE s.schemaname = current_schema() AND c.reltuples < 0 \
     AND s.n_mod_since_analyze >= $1 AND pg_has_role(c.relowner, 'USAGE') \
     ORDER BY s.relname";

impl Store {
    /// The tables that want their first statistics (see the module's comment); none on SQLite,
    /// whose plans (`INDEXED BY` where it matters) do not depend on statistics.
    pub async fn tables_without_statistics(&self) -> Result<Vec<UnanalysedTable>, StoreError> {
        let Store::Postgres(pool) = self else {
            return Ok(Vec::new());
        };
        let names: Vec<String> = sqlx::query_scalar(UNANALYSED_SQL)
            .bind(FIRST_ANALYSIS_ROWS)
            .fetch_all(pool)
            .await?;
        Ok(names.into_iter().map(UnanalysedTable).collect())
    }

    /// Gathers the statistics of `table`, unless another session holds a lock that would make
    /// the analysis wait, as another node's or autovacuum's analysis of it does.
    pub async fn analyze(&self, table: &UnanalysedTable) -> Result<(), StoreError> {
        let Store::Postgres(pool) = self else {
            return Ok(());
        };
        // The name comes from the catalogue, quoted by PostgreSQL itself.
        let statement = format!("ANALYZE (SKIP_LOCKED) {}", table.as_str());
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(pool)
            .await?;
        Ok(())
    }
}
