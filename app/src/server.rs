//! Running the platform: the bus started, the gateway serving, the sweeps and upkeep in
//! the background, and a graceful stop. Apart from `platform`, which only assembles the
//! services, so that the gateway (which reads the platform) is not imported by it.

use crate::config::Config;
use crate::gateway;
use crate::platform::Platform;
use crate::registry::Databases;
use anyhow::Context;
use ordo_bus::{Bus, RunningBus};
use ordo_http::Verifier;
use ordo_http::ratelimit::RateLimits;
use ordo_http::serve::ServeOptions;
use ordo_identity::Identity;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

impl Platform {
    /// Serves on `listener` until `shutdown` resolves, then drains.
    ///
    /// # Errors
    /// When the listener fails.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let bus = self.start_bus().await?;
        self.serve_started(bus, listener, shutdown).await
    }

    /// Starts relaying and consuming events; the platform keeps a fresh, unstarted bus.
    async fn start_bus(&mut self) -> anyhow::Result<RunningBus> {
        let idle = Bus::new(self.bus.options().clone());
        std::mem::replace(&mut self.bus, idle)
            .start()
            .await
            .context("starting the event bus")
    }

    async fn serve_started(
        self,
        bus: RunningBus,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let http = &self.config.http;
        let options = ServeOptions {
            header_read_timeout: Duration::from_secs(http.header_read_timeout_secs),
            drain_delay: Duration::from_secs(http.drain_delay_secs),
            grace: Duration::from_secs(http.shutdown_grace_secs),
        };
        let upkeep = tokio::spawn(upkeep(
            self.identity.clone(),
            self.verifier.clone(),
            self.limits.clone(),
        ));
        let progress = self.bus.options().progress.clone();
        let (inventory, orders, payments) = (
            self.inventory.clone(),
            self.orders.clone(),
            self.payments.clone(),
        );
        let sweeps = [
            tokio::spawn(sweep(
                "expired stock holds released",
                Duration::from_secs(self.config.inventory.sweep_secs),
                progress.clone(),
                move |now| {
                    let inventory = inventory.clone();
                    async move { inventory.expire_holds(now).await }
                },
            )),
            tokio::spawn(sweep(
                "checkouts whose requests died given up",
                ordo_orders::STALE_CLAIM / 2,
                progress.clone(),
                move |now| {
                    let orders = orders.clone();
                    async move { orders.abandon_stale_checkouts(now).await }
                },
            )),
            tokio::spawn(sweep(
                "pending refunds made",
                Duration::from_secs(30),
                progress,
                move |now| {
                    let payments = payments.clone();
                    async move { payments.settle_pending_refunds(now).await }
                },
            )),
            tokio::spawn(self.readiness.clone().run()),
        ];
        let router = gateway::router(&self);
        let draining = self.draining.clone();
        let result = ordo_http::serve::serve(listener, router, options, draining, shutdown).await;
        bus.stop(options.grace).await;
        upkeep.abort();
        for task in sweeps {
            task.abort();
        }
        for db in self.databases.values() {
            db.close().await;
        }
        result.context("serving")
    }

    /// Binds `config.listen` and serves in the background; for tests and embedding.
    ///
    /// # Errors
    /// When opening or binding fails.
    pub async fn start(config: Config) -> anyhow::Result<Running> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr()?;
        let mut platform = Platform::open(config).await?;
        let databases = platform.databases.clone();
        let identity = platform.identity.clone();
        let progress = platform.bus.options().progress.clone();
        let readiness = platform.readiness.clone();
        // Running before this returns, so that callers see a working platform.
        let bus = platform.start_bus().await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(platform.serve_started(bus, listener, async {
            let _ = stopped.await;
        }));
        Ok(Running {
            address,
            databases,
            identity,
            progress,
            readiness,
            stop: Some(stop),
            task,
        })
    }
}

/// Runs `job` every `every` until aborted: a sweep that moves things on by itself (holds
/// that ran out, checkouts whose requests died, refunds left pending). When it did
/// something it says so on `progress`, as the bus does, so that whoever waits looks again.
async fn sweep<F, Fut, E>(what: &'static str, every: Duration, progress: Arc<Notify>, job: F)
where
    F: Fn(time::OffsetDateTime) -> Fut,
    Fut: std::future::Future<Output = Result<usize, E>>,
    E: std::fmt::Display,
{
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match job(ordo_kernel::time::now()).await {
            Ok(0) => {}
            Ok(done) => {
                tracing::info!(done, "{what}");
                progress.notify_waiters();
            }
            Err(error) => tracing::warn!(%error, "sweep failed: {what}"),
        }
    }
}

/// Background upkeep: pick up key rotations, forget idle limiters, purge expired tokens.
async fn upkeep(identity: Arc<Identity>, verifier: Arc<Verifier>, limits: Arc<RateLimits>) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        match identity.keyring().reload_if_changed() {
            Ok(true) => {
                verifier.replace_keys(&identity.keyring().jwks());
                tracing::info!(kid = %identity.keyring().current_kid(), "signing keys reloaded");
            }
            Ok(false) => {}
            Err(error) => {
                tracing::error!(%error, "cannot reload the signing keys; keeping the current ones")
            }
        }
        if ticks.is_multiple_of(360) {
            limits.forget_idle();
            match identity.housekeeping().await {
                Ok(purged) => tracing::debug!(purged, "expired refresh tokens purged"),
                Err(error) => tracing::warn!(%error, "housekeeping failed"),
            }
        }
    }
}

/// A platform serving in the background.
pub struct Running {
    pub address: SocketAddr,
    pub databases: Databases,
    pub identity: Arc<Identity>,
    /// Notified as the event bus makes progress.
    pub progress: Arc<tokio::sync::Notify>,
    pub readiness: crate::ops::Readiness,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Shuts down gracefully and waits for it.
    ///
    /// # Errors
    /// When serving failed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("server task")?
    }
}
