//! Every serving node on PostgreSQL gives each table of its schema its first statistics as soon
//! as it has changed by enough rows, rather than up to a minute later when autovacuum comes round
//! (`sealpost_store::statistics`). On SQLite there is nothing to do and the loop ends at once.

use std::collections::HashSet;
use std::time::Duration;

use sealpost_smtpd::CancellationToken;
use sealpost_store::{Backend, Store, UnanalysedTable};

/// How often the tables are looked at: a new node accepts a few thousand messages a second.
const INTERVAL: Duration = Duration::from_secs(1);

/// Analyses each table that wants its first statistics every [`INTERVAL`] until `shutdown`,
/// once per table that this node analysed without an error: a table still listed afterwards had
/// been passed over while another session analysed it, and its statistics are on their way.
pub async fn run(store: Store, shutdown: CancellationToken) {
    if store.backend() != Backend::Postgres {
        return;
    }
    let mut analysed: HashSet<UnanalysedTable> = HashSet::new();
    while !shutdown.is_cancelled() {
        match store.tables_without_statistics().await {
            Ok(tables) => {
                let waiting: Vec<UnanalysedTable> = tables
                    .into_iter()
                    .filter(|table| !analysed.contains(table))
                    .collect();
                for table in waiting {
                    match store.analyze(&table).await {
                        Ok(()) => {
                            tracing::info!(
                                table = table.as_str(),
                                "analysed the table's first rows"
                            );
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
            Err(error) => tracing::warn!(
                %error,
                "the tables without statistics could not be listed; trying again"
            ),
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(INTERVAL) => {}
        }
    }
}
