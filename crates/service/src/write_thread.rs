//! Where the writes of the hot path run: the group commit of accepted messages, delivery's
//! claims and its outcomes. On SQLite they run on a thread of their own. Each of their
//! transactions is several round trips to the thread of SQLite's one write connection, and it
//! holds that connection through all of them: on the shared runtime each answer waited for a
//! worker to finish what it was doing (signing, mostly), and every other writer waited with it.
//! On their own thread the answers are taken up as they come, and the connection is free again
//! sooner. On PostgreSQL they run where they are asked for: its connections belong to the
//! runtime whose I/O driver opened them.

use std::future::Future;
use std::sync::Arc;

use sealpost_store::Backend;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

#[derive(Debug, Clone)]
pub(crate) enum WriteThread {
    /// SQLite: the thread's runtime, and what ends the thread when the last handle drops it.
    Own {
        runtime: Handle,
        _running: Arc<oneshot::Sender<()>>,
    },
    /// PostgreSQL: the caller's runtime.
    Callers,
}

impl WriteThread {
    pub(crate) fn start(backend: Backend) -> std::io::Result<Self> {
        if backend == Backend::Postgres {
            return Ok(Self::Callers);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (running, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sealpost-write".to_owned())
            .spawn(move || {
                // The runtime drives the work spawned on it while it waits here.
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self::Own {
            runtime: handle,
            _running: Arc::new(running),
        })
    }

    /// Runs `work` there and returns its result. On SQLite, dropping the returned future does
    /// not stop `work`: a write that was started finishes while the service lives.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> T {
        let Self::Own { runtime, .. } = self else {
            return work.await;
        };
        match runtime.spawn(work).await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // The runtime lives while this handle does, so nothing cancels the work.
            Err(error) => unreachable!("the write thread stopped while in use: {error}"),
        }
    }

    /// Starts `work` there, to run on its own (the commit writer's loop).
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        match self {
            Self::Own { runtime, .. } => runtime.spawn(work),
            Self::Callers => tokio::spawn(work),
        };
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::oneshot::error::TryRecvError;

    use super::*;

    /// Work that holds `sender` and never ends.
    async fn endless(sender: oneshot::Sender<()>) {
        let _sender = sender;
        std::future::pending::<()>().await;
    }

    /// Polls `run` once and drops it.
    async fn abandon(run: impl Future<Output = ()>) {
        let _ = tokio::time::timeout(Duration::from_millis(20), run).await;
    }

    /// On SQLite the work runs on the write thread, goes on when its caller gives up, passes
    /// its panic to the caller, and stops with the thread when the last handle goes.
    #[tokio::test]
    async fn runs_work_on_its_own_thread_until_its_last_handle_goes() {
        let writes = WriteThread::start(Backend::Sqlite).unwrap();
        let name = writes
            .run(async { std::thread::current().name().map(str::to_owned) })
            .await;
        assert_eq!(name.as_deref(), Some("sealpost-write"));
        let panicked = tokio::spawn({
            let writes = writes.clone();
            async move { writes.run(async { panic!("a write failed") }).await }
        })
        .await
        .unwrap_err();
        let message = panicked.into_panic();
        assert_eq!(message.downcast_ref::<&str>(), Some(&"a write failed"));
        let (sender, mut receiver) = oneshot::channel::<()>();
        abandon(writes.run(endless(sender))).await;
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
        drop(writes);
        let stopped = tokio::time::timeout(Duration::from_secs(5), receiver).await;
        assert!(stopped.expect("the thread stops").is_err());
    }

    /// On PostgreSQL the work runs in the caller's future and ends with it.
    #[tokio::test]
    async fn runs_work_in_place_on_postgres() {
        let writes = WriteThread::start(Backend::Postgres).unwrap();
        let (sender, mut receiver) = oneshot::channel::<()>();
        abandon(writes.run(endless(sender))).await;
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Closed));
    }
}
