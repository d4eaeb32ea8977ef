//! Group commit of accepted messages: submissions that arrive together are committed in one
//! transaction, so many acceptances share one durable write (fsync) instead of paying one each.
//! Each submitter still waits for the commit that holds its own message before it is answered,
//! so nothing is acknowledged before it is durable (SPEC S9.3).
//!
//! The writer runs on the [`WriteThread`].

use sealpost_domain::QueuedMessage;
use sealpost_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use crate::write_thread::WriteThread;

/// The most messages one transaction takes; a bound on how long the first of them waits.
const MAX_BATCH: usize = 256;

type Pending = (QueuedMessage, oneshot::Sender<Result<(), StoreError>>);

/// The handle submitters use; the writer task runs until every handle is dropped or the write
/// thread stops with the service.
#[derive(Debug, Clone)]
pub(crate) struct CommitQueue {
    sender: mpsc::Sender<Pending>,
}

impl CommitQueue {
    /// Starts the writer on the write thread.
    pub(crate) fn start(store: Store, writes: &WriteThread) -> Self {
        let (sender, receiver) = mpsc::channel(MAX_BATCH * 4);
        writes.spawn(write(store, receiver));
        Self { sender }
    }

    /// Commits one message; returns once it is durable (or refused).
    pub(crate) async fn commit(&self, message: QueuedMessage) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Corrupt("the commit writer has stopped".to_owned());
        self.sender
            .send((message, reply))
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// Takes whatever has queued up (at least one message), commits it in one transaction, and
/// answers each submitter. When a batch fails (a repeated idempotency key, say), its messages are
/// committed one by one, so each submitter gets its own answer and no message is refused for
/// another's fault.
async fn write(store: Store, mut receiver: mpsc::Receiver<Pending>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        let (messages, replies): (Vec<QueuedMessage>, Vec<_>) = batch.into_iter().unzip();
        match store.insert_messages(&messages).await {
            Ok(()) => {
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(error) if messages.len() == 1 => {
                let _ = replies
                    .into_iter()
                    .next()
                    .map(|reply| reply.send(Err(error)));
            }
            Err(_) => {
                for (message, reply) in messages.iter().zip(replies) {
                    let _ = reply.send(store.insert_message(message).await);
                }
            }
        }
    }
}
