//! Nodes wake each other (SPEC S12): on PostgreSQL every commit of new mail sends a
//! notification on one channel when it commits, and each delivering node listens on a
//! connection of its own, so idle delivery elsewhere starts at once instead of at its next
//! poll. SQLite has one node, which wakes itself in memory.

use sqlx::postgres::PgListener;

use crate::StoreError;

/// The channel that says "there is new mail to deliver".
pub(crate) const CHANNEL: &str = "sealpost_work";

/// A listening connection: [`WorkListener::next`] returns when another node (or this one)
/// commits new mail.
#[derive(Debug)]
pub struct WorkListener(PgListener);

impl WorkListener {
    /// Listens through `url`, a direct PostgreSQL connection: a transaction pooler such as
    /// PgBouncer would hand notifications to whichever client holds the connection then.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Self(listener))
    }

    /// Waits for the next notification. After a lost connection it reconnects and listens
    /// again on the next call; what was committed meanwhile is found by the node's poll.
    pub async fn next(&mut self) -> Result<(), StoreError> {
        self.0.recv().await?;
        Ok(())
    }
}
