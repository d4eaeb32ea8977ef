//! Every serving node on PostgreSQL gives each table of its schema its first statistics as soon
//! as it has changed by enough rows, rather than up to a minute later when autovacuum comes round
//! (`sealpost_store::statistics`). On SQLite there is nothing to do and the loop ends at once.

use std::collections::HashSet;
use std::time::Duration;

use sealpost_smtpd::CancellationToken;
use sealpost_store::{Backend, Store, UnanalysedTable};

/// How often the tables are looked at: a new node accepts a few thousand messages a second.
const INTERVAL: Duration = Duration::from_secs(1);

/// Analyses each table that wants its first statistics every [`INTERVAL`] until `shutdown`.
pub async fn run(store: Store, shutdown: CancellationToken) {
    if store.backend() != Backend::Postgres {
        return;
    }
    let mut analysed: HashSet<UnanalysedTable> = HashSet::new();
    while !shutdown.is_cancelled() {
        round(&store, &mut analysed).await;
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(INTERVAL) => {}
        }
    }
}

/// One look at the tables: analyses each that wants its first statistics, once per table that
/// this node analysed without an error. A table still listed afterwards had been passed over
/// while another session analysed it, and its statistics are on their way.
async fn round(store: &Store, analysed: &mut HashSet<UnanalysedTable>) {
    let tables = match store.tables_without_statistics().await {
        Ok(tables) => tables,
        Err(error) => {
            tracing::warn!(
                %error,
                "the tables without statistics could not be listed; trying again"
            );
            return;
        }
    };
    let waiting: Vec<UnanalysedTable> = tables
        .into_iter()
        .filter(|table| !analysed.contains(table))
        .collect();
    for table in waiting {
        match store.analyze(&table).await {
            Ok(()) => {
                tracing::info!(table = table.as_str(), "analysed the table's first rows");
                analysed.insert(table);
            }
            Err(error) => tracing::warn!(
                %error,
                table = table.as_str(),
                "the table's first analysis failed; trying again"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use sealpost_store::testing;

    use super::*;

    /// A round on a schema whose queue tables have grown past the threshold analyses each of
    /// them once, after which none wants its first statistics any more.
    #[tokio::test]
    async fn a_round_gives_each_grown_table_its_first_statistics() {
        let store = Store::connect(&testing::fresh_postgres_url().await)
            .await
            .unwrap();
        let tables = testing::ACCEPTANCE_TABLES;
        testing::without_autovacuum(&store, &tables).await;
        let tenant = testing::tenant("acme", "Acme");
        store.create_tenant(&tenant).await.unwrap();
        testing::accept_messages(&store, tenant.id, 550).await;
        // PostgreSQL publishes a session's counts of changed rows a second or more after the
        // commit.
        let started = Instant::now();
        while store.tables_without_statistics().await.unwrap().len() < tables.len()
            && started.elapsed() < Duration::from_secs(20)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut analysed = HashSet::new();
        round(&store, &mut analysed).await;
        let mut names: Vec<&str> = analysed.iter().map(UnanalysedTable::as_str).collect();
        names.sort_unstable();
        let names: Vec<&str> = names
            .iter()
            .map(|name| name.rsplit('.').next().unwrap())
            .collect();
        assert_eq!(names, tables);
        // A table that was neither analysed nor vacuumed would still be listed.
        assert!(store.tables_without_statistics().await.unwrap().is_empty());
    }
}
