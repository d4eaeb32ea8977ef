//! The plans of the reads pages make often, on SQLite, whose planner has no statistics to go
//! by: a message's recipients and attempts and a list page's recipients must use the indexes by
//! tenant and message rather than read every row of the tenant (or of every tenant), and the
//! dashboard's figures one index only. And the plan of the claim, on both backends: it reads
//! the recipients it takes in order from one index and stops at its limit.

use crate::claims::due_recipients_sql;
use crate::figures::RECIPIENT_STATES_SQL;
use crate::outcomes::MESSAGE_ATTEMPTS_SQL;
use crate::queue::MESSAGE_RECIPIENTS_SQL;
use crate::queue_tests::{NOW, message, stores_with_tenant};
use crate::summaries::listed_recipients_sql;
use crate::{Store, testing};

/// SQLite's plan of `sql`, one line per step.
async fn sqlite_plan(store: &Store, sql: &str) -> String {
    let Store::Sqlite(pools) = store else {
        panic!("a SQLite store");
    };
    let pool = pools.readers();
    let rows: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(_, _, _, step)| step)
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_message_s_rows_are_read_through_the_indexes_by_tenant_and_message() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    for (sql, index) in [
        (
            MESSAGE_RECIPIENTS_SQL.to_owned(),
            "recipients_tenant_message",
        ),
        (listed_recipients_sql(3), "recipients_tenant_message"),
        (MESSAGE_ATTEMPTS_SQL.to_owned(), "attempts_tenant_message"),
    ] {
        let plan = sqlite_plan(&store, &sql).await;
        assert!(plan.contains(index), "{sql}\n{plan}");
        assert!(!plan.contains("SCAN"), "{sql}\n{plan}");
    }
}

#[tokio::test]
async fn the_dashboard_s_figures_read_one_covering_index() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let plan = sqlite_plan(&store, RECIPIENT_STATES_SQL).await;
    assert_eq!(
        plan,
        "SEARCH recipients USING COVERING INDEX recipients_tenant_accepted_state \
         (tenant_id=? AND accepted_at>?)\nUSE TEMP B-TREE FOR GROUP BY"
    );
}

/// SQLite is built with its query planner stability guarantee (`.cargo/config.toml`): without
/// it, every statement that binds a `LIMIT` or a `LIKE` pattern, as every list does, is
/// compiled again at every run. It is built without the process-wide mutexes of memory counting
/// and of a page cache shared by all connections.
#[tokio::test]
async fn sqlite_is_built_without_replanning_or_shared_mutexes() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let Store::Sqlite(pools) = &store else {
        panic!("a SQLite store");
    };
    let pool = pools.readers();
    let used = |option: &'static str| async move {
        let (used,): (i64,) = sqlx::query_as("SELECT sqlite_compileoption_used($1)")
            .bind(option)
            .fetch_one(pool)
            .await
            .unwrap();
        used == 1
    };
    assert!(
        used("ENABLE_QPSG").await,
        "SQLite was built without SQLITE_ENABLE_QPSG"
    );
    // Nor does SQLite take a process-wide mutex to count memory, or to reach a page cache that
    // all connections would share.
    assert!(
        used("DEFAULT_MEMSTATUS=0").await,
        "SQLite counts its memory under a shared mutex"
    );
    assert!(
        !used("ENABLE_MEMORY_MANAGEMENT").await,
        "SQLite's connections share one page cache"
    );
}

/// PostgreSQL's plan of the claim's selection, with its parameters bound as a claim binds them.
async fn postgres_claim_plan(store: &Store) -> String {
    let Store::Postgres(pool) = store else {
        panic!("a PostgreSQL store");
    };
    let sql = format!("EXPLAIN {}", due_recipients_sql(store));
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind("node")
        .bind(NOW + 60)
        .bind("token")
        .bind(NOW)
        .bind(100i64)
        .fetch_all(pool)
        .await
        .unwrap();
    rows.into_iter()
        .map(|(step,)| step)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A claim takes the first recipients of the index in its own order and stops at its limit:
/// no step gathers every waiting recipient to sort them, which behind a burst of 100,000 took
/// 60 ms a claim on either backend. On PostgreSQL the plan is asked once the table is analysed,
/// as autovacuum analyses it in service, with more waiting than one claim takes.
#[tokio::test]
async fn a_claim_reads_its_recipients_in_order_from_one_index_and_sorts_nothing() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let plan = match &store {
            Store::Sqlite(_) => sqlite_plan(&store, &due_recipients_sql(&store)).await,
            Store::Postgres(pool) => {
                // A history and a backlog behind one stored message: 20,000 recipients sent and
                // 20,000 waiting, each with its own place.
                let burst = message(tenant, &["someone@one.test"], None);
                store.insert_message(&burst).await.unwrap();
                sqlx::query(
                    "INSERT INTO recipients (id, message_id, tenant_id, position, address, \
                     domain, state, attempts, updated_at, fair_key, accepted_at) \
                     SELECT 'r' || n, $1, $2, n, 'someone@one.test', 'one.test', \
                     CASE WHEN n % 2 = 0 THEN 'sent' ELSE 'queued' END, n % 2, $3, n, $3 \
                     FROM generate_series(1, 40000) AS n",
                )
                .bind(burst.id)
                .bind(tenant)
                .bind(NOW)
                .execute(pool)
                .await
                .unwrap();
                sqlx::query("ANALYZE recipients")
                    .execute(pool)
                    .await
                    .unwrap();
                postgres_claim_plan(&store).await
            }
        };
        assert!(plan.contains("recipients_claim_order"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        assert!(!plan.contains("Sort"), "{plan}");
        assert!(!plan.contains("Bitmap"), "{plan}");
    }
}
