//! Every serving node on SQLite checkpoints the WAL once a second, so that no commit has to
//! (`Store::checkpoint`). On PostgreSQL there is nothing to do and the loop ends at once.

use std::time::Duration;

use sealpost_smtpd::CancellationToken;
use sealpost_store::Store;

/// How often the WAL is checkpointed: at full speed a second of writes is a few thousand pages,
/// well below the bound at which a commit would checkpoint by itself.
const INTERVAL: Duration = Duration::from_secs(1);

/// Checkpoints every [`INTERVAL`] until `shutdown`.
pub async fn run(store: Store, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        match store.checkpoint().await {
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(error) => tracing::warn!(%error, "the WAL checkpoint failed; trying again"),
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(INTERVAL) => {}
        }
    }
}
