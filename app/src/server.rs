//! Running the platform: the bus started, the gateway serving, the sweeps and upkeep in
//! the background, and a graceful stop. Apart from `platform`, which only assembles the
//! services: this module hands the gateway the parts it serves, so that neither the
//! platform nor the gateway imports the other.

use crate::config::Config;
use crate::platform::Platform;
use crate::registry::Databases;
use crate::{gateway, ops};
use anyhow::Context;
use ordo_bus::{Bus, RunningBus};
use ordo_http::Verifier;
use ordo_http::ratelimit::RateLimits;
use ordo_identity::Keyring;
use ordo_kit::{Service, Shared};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
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
        mut self,
        bus: RunningBus,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let options = self.config.http.serve_options()?;
        let upkeep = tokio::spawn(upkeep(
            self.keyring.clone(),
            self.verifier.clone(),
            self.limits.clone(),
        ));
        let progress = self.bus.options().progress.clone();
        let mut background: Vec<JoinHandle<()>> = std::mem::take(&mut self.sweeps)
            .into_iter()
            .map(|sweep| tokio::spawn(sweep.run(progress.clone())))
            .collect();
        background.push(tokio::spawn(self.readiness.clone().run()));
        let ops = ops::router(
            self.databases.clone(),
            self.readiness.clone(),
            self.draining.clone(),
            self.config.http.metrics_public,
        );
        let (api, root) = std::mem::take(&mut self.routes);
        let (routes, document) = gateway::routes(api, root, ops, self.dead_letters.clone());
        let routes = routes.merge(crate::web::router(
            &self.config.web,
            self.config.orders.accept_timeout_secs,
        ));
        // Beside the public stack, not behind it: services call one another with their own
        // tokens, and neither users' rate limits nor their CORS concern them. Observed all
        // the same: their calls count, and continue the caller's trace.
        let internal = std::mem::take(&mut self.internal)
            .layer(axum::middleware::from_fn(ordo_http::layers::observe));
        let router = gateway::router(
            (routes, document),
            &self.config.http,
            self.verifier.clone(),
            self.limits.clone(),
        )
        .merge(internal);
        let draining = self.draining.clone();
        let grace = options.grace;
        let result = ordo_http::serve::serve(listener, router, options, draining, shutdown).await;
        bus.stop(grace).await;
        upkeep.abort();
        for task in background {
            task.abort();
        }
        for db in self.databases.values() {
            db.close().await;
        }
        result.context("serving")
    }

    /// Binds `config.listen` and serves the registered services in the background; for
    /// tests and embedding.
    ///
    /// # Errors
    /// When opening or binding fails.
    pub async fn start(config: Config) -> anyhow::Result<Running> {
        Platform::start_with(config, Vec::new()).await
    }

    /// As `start`, with `extra` services after the registered ones.
    ///
    /// # Errors
    /// When opening or binding fails.
    pub async fn start_with(config: Config, extra: Vec<Service>) -> anyhow::Result<Running> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr()?;
        let mut platform = Platform::open_with(config, extra).await?;
        let databases = platform.databases.clone();
        let shared = platform.shared.clone();
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
            shared,
            progress,
            readiness,
            stop: Some(stop),
            task,
        })
    }
}

/// Background upkeep: pick up key rotations, forget idle limiters.
pub(crate) async fn upkeep(
    keyring: Arc<Keyring>,
    verifier: Arc<Verifier>,
    limits: Arc<RateLimits>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        ticks += 1;
        if ticks.is_multiple_of(360) {
            limits.forget_idle();
        }
        match keyring.reload_if_changed() {
            Ok(true) => {
                verifier.replace_keys(&keyring.jwks());
                tracing::info!(kid = %keyring.current_kid(), "signing keys reloaded");
            }
            Ok(false) => {}
            Err(error) => {
                tracing::error!(%error, "cannot reload the signing keys; keeping the current ones")
            }
        }
    }
}

/// A platform serving in the background.
pub struct Running {
    pub address: SocketAddr,
    pub databases: Databases,
    shared: Shared,
    /// Notified as the event bus makes progress.
    pub progress: Arc<tokio::sync::Notify>,
    pub readiness: crate::ops::Readiness,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// What a service provides, as `Platform::service`.
    ///
    /// # Errors
    /// When no running service provides it.
    pub fn service<T: ?Sized + Send + Sync + 'static>(&self) -> anyhow::Result<Arc<T>> {
        self.shared.require::<T>()
    }

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
