//! A table's first statistics (`statistics.rs`): on PostgreSQL a table that has changed by
//! enough rows and was never analysed is listed, under a name quoted for a statement, until it
//! is analysed, and one that has changed by fewer rows is not; SQLite has nothing to list.

use std::time::{Duration, Instant};

use crate::queue_tests::stores_with_tenant;
use crate::statistics::FIRST_ANALYSIS_ROWS;
use crate::{Store, testing};

/// The tables listed once `wanted` holds of them, or after 20 s. PostgreSQL counts a table's
/// changed rows in each session and publishes the counts a second or more after the commit.
async fn listed_once(store: &Store, wanted: impl Fn(&[String]) -> bool) -> Vec<String> {
    let started = Instant::now();
    loop {
        let tables: Vec<String> = store
            .tables_without_statistics()
            .await
            .unwrap()
            .iter()
            .map(|table| table.as_str().to_owned())
            .collect();
        if wanted(&tables) || started.elapsed() > Duration::from_secs(20) {
            return tables;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_table_is_listed_for_its_first_statistics_until_it_has_them() {
    let (_directory, stores) = stores_with_tenant().await;
    for (store, tenant) in stores {
        let Store::Postgres(pool) = &store else {
            assert!(store.tables_without_statistics().await.unwrap().is_empty());
            continue;
        };
        // Autovacuum, which analyses a table after 50 changed rows on its round once a minute,
        // would take some of the tables off the list at a moment of its choosing.
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(pool)
            .await
            .unwrap();
        let tables = testing::ACCEPTANCE_TABLES;
        testing::without_autovacuum(&store, &tables).await;
        // Fewer changed rows than the threshold: nothing is listed.
        testing::accept_messages(&store, tenant, 10).await;
        let counted = || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT n_mod_since_analyze FROM pg_stat_user_tables \
                 WHERE schemaname = current_schema() AND relname = 'messages'",
            )
            .fetch_one(pool)
            .await
            .unwrap()
        };
        let started = Instant::now();
        while counted().await < 10 && started.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(counted().await, 10);
        assert!(store.tables_without_statistics().await.unwrap().is_empty());
        // Past it: the tables the messages were written to are listed, and a table whose name
        // needs quoting is listed quoted.
        sqlx::raw_sql(
            "CREATE TABLE \"Odd \"\"name\"\"\" (n INTEGER) WITH (autovacuum_enabled = off); \
             INSERT INTO \"Odd \"\"name\"\"\" SELECT generate_series(1, 600)",
        )
        .execute(pool)
        .await
        .unwrap();
        let rows = usize::try_from(FIRST_ANALYSIS_ROWS).unwrap();
        testing::accept_messages(&store, tenant, rows).await;
        let expected: Vec<String> = std::iter::once("\"Odd \"\"name\"\"\"")
            .chain(tables)
            .map(|table| format!("{schema}.{table}"))
            .collect();
        let listed = listed_once(&store, |tables| tables == expected).await;
        assert_eq!(listed, expected);
        for table in store.tables_without_statistics().await.unwrap() {
            store.analyze(&table).await.unwrap();
        }
        let listed = listed_once(&store, <[String]>::is_empty).await;
        assert!(listed.is_empty(), "{listed:?}");
        // The statistics count the rows as they are.
        let counted: i64 = sqlx::query_scalar(
            "SELECT reltuples::BIGINT FROM pg_class WHERE oid = 'messages'::regclass",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(counted, FIRST_ANALYSIS_ROWS + 10);
    }
}
