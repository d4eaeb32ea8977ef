//! The concurrency limit on key work (generation, and the key derivation of an import), which
//! takes up to a second or more of a core: a burst of imports waits its turn instead of taking
//! every core from signing and serving (`sealpost_domain::limits::kdf::concurrent_key_work`).

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::ServiceError;

/// Clones share one set of permits, so every clone of the service counts against one limit.
#[derive(Debug, Clone)]
pub(crate) struct KeyWorkLimit {
    permits: Arc<Semaphore>,
}

impl KeyWorkLimit {
    /// A limit sized for this machine's cores.
    pub(crate) fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(sealpost_domain::limits::kdf::concurrent_key_work(cores))
    }

    fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits)),
        }
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the
    /// blocking task, so work whose caller gave up still counts until it ends.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|error| ServiceError::Internal(error.into()))?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|error| ServiceError::Internal(error.into()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Eight jobs, each holding its permit for a while, never run more than the limit at once,
    /// and all of them finish.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_limit_run_at_once() {
        for limit in [1, 2] {
            let key_work = Arc::new(KeyWorkLimit::new(limit));
            let running = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let jobs: Vec<_> = (0..8)
                .map(|_| {
                    let (key_work, running, most) =
                        (key_work.clone(), running.clone(), most.clone());
                    tokio::spawn(async move {
                        key_work
                            .run(move || {
                                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                                most.fetch_max(now, Ordering::SeqCst);
                                std::thread::sleep(Duration::from_millis(30));
                                running.fetch_sub(1, Ordering::SeqCst);
                            })
                            .await
                    })
                })
                .collect();
            for job in jobs {
                job.await.unwrap().unwrap();
            }
            assert_eq!(most.load(Ordering::SeqCst), limit);
        }
    }

    /// A caller that gives up does not free the permit while its work still runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_work_keeps_its_permit_until_it_ends() {
        let key_work = Arc::new(KeyWorkLimit::new(1));
        let slow = tokio::spawn({
            let key_work = key_work.clone();
            async move {
                key_work
                    .run(|| std::thread::sleep(Duration::from_millis(300)))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        slow.abort();
        let started = std::time::Instant::now();
        key_work.run(|| ()).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(150));
    }
}
