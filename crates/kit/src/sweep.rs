//! Sweeps: jobs that move things on by themselves (holds that ran out, checkouts whose
//! requests died, refunds left pending), run at an interval. With several instances of a
//! service, a shared sweep runs in the one holding its lease; a sweep of what each
//! instance keeps for itself (its positions in memory, its search index) runs in every one.

use crate::Lease;

use futures_util::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Notify;

type Job = Box<dyn Fn(OffsetDateTime) -> BoxFuture<'static, Result<usize, String>> + Send + Sync>;

/// A job run every `every`, answering how many things it moved on.
pub struct Sweep {
    what: &'static str,
    every: Duration,
    job: Job,
    wake: Option<Arc<Notify>>,
    /// Runs in every instance, not in one at a time.
    per_instance: bool,
    lease: Option<Lease>,
}

/// How long a lease lasts past its last renewal, at least: a holder that stops is replaced
/// after this long.
const LEASE_AT_LEAST: Duration = Duration::from_secs(10);

impl Sweep {
    /// `job` is given `state` and the time; `what` says in a log line what the job did,
    /// e.g. "expired stock holds released".
    pub fn new<S, F, Fut, E>(what: &'static str, every: Duration, state: &Arc<S>, job: F) -> Self
    where
        S: Send + Sync + 'static,
        F: Fn(Arc<S>, OffsetDateTime) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<usize, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let state = state.clone();
        Sweep {
            what,
            every,
            wake: None,
            per_instance: false,
            lease: None,
            job: Box::new(move |now| {
                let done = job(state.clone(), now);
                Box::pin(async move { done.await.map_err(|error| error.to_string()) })
            }),
        }
    }

    /// Also runs as soon as `wake` is notified: for work that arrives (a request recorded)
    /// rather than work that comes due.
    #[must_use]
    pub fn woken_by(mut self, wake: Arc<Notify>) -> Self {
        self.wake = Some(wake);
        self
    }

    /// Runs in every instance of the service: for what each keeps for itself.
    #[must_use]
    pub fn per_instance(mut self) -> Self {
        self.per_instance = true;
        self
    }

    /// Runs only while this process holds `lease` on the sweep (not for a sweep that runs
    /// per instance).
    #[must_use]
    pub fn leased(mut self, lease: Lease) -> Self {
        if !self.per_instance {
            self.lease = Some(lease);
        }
        self
    }

    /// Whether this process may run the job now: always without a lease.
    async fn holds(&self, now: OffsetDateTime) -> bool {
        let Some(lease) = &self.lease else {
            return true;
        };
        match lease
            .hold(self.what, now, (self.every * 3).max(LEASE_AT_LEAST))
            .await
        {
            Ok(held) => held,
            Err(error) => {
                tracing::warn!(%error, "cannot renew the lease of a sweep: {}", self.what);
                false
            }
        }
    }

    /// Runs until the task is aborted. When the job did something it says so on `progress`,
    /// as the bus does, so that whoever waits looks again.
    pub async fn run(self, progress: Arc<Notify>) {
        let mut tick = tokio::time::interval(self.every);
        let wake = self.wake.clone().unwrap_or_default();
        // The first tick is at once: the job runs at start.
        tick.tick().await;
        loop {
            // Interest first, then the job: a wake-up while it runs is not lost.
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let now = ordo_kernel::time::now();
            let job = async {
                if self.holds(now).await {
                    (self.job)(now).await
                } else {
                    Ok(0)
                }
            };
            match job.await {
                Ok(0) => {}
                Ok(done) => {
                    tracing::info!(done, "{}", self.what);
                    progress.notify_waiters();
                }
                Err(error) => tracing::warn!(%error, "sweep failed: {}", self.what),
            }
            tokio::select! {
                _ = tick.tick() => {}
                () = &mut woken => {}
            }
        }
    }
}

impl std::fmt::Debug for Sweep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweep")
            .field("what", &self.what)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}
