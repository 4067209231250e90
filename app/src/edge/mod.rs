//! `ordo gateway`: the public entry of a platform whose services run in processes of their
//! own. It routes each path to the service whose route it is — the route table is the
//! services' own OpenAPI routes, so a route cannot exist in a service and not here — over
//! the instances `services.NAME.urls` names; it authenticates, limits and answers errors
//! with the same layers as `ordo serve`, serves the web apps and the merged OpenAPI
//! document, and never routes `/internal/v1`. At a `SIGHUP` it reads its configuration
//! again and routes to the instances it names from then on.

mod cache;
mod pool;
mod proxy;

use crate::config::Config;
use crate::platform::Assembly;
use crate::{gateway, registry};
use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ordo_http::ratelimit::RateLimits;
use ordo_http::serve::{Draining, ServeOptions};
use pool::Pool;
use proxy::{Route, forward};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use utoipa::openapi::path::PathItem;

/// How often every instance's readiness is asked.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// The services whose reads are public, and kept by the gateway a short while.
const CACHED: [&str; 2] = ["catalog", "search"];

/// The methods a documented path answers, each forwarded to `route`.
fn methods(item: &PathItem, route: &Arc<Route>) -> MethodRouter {
    let mut router = MethodRouter::new();
    let operations = [
        (MethodFilter::GET, item.get.is_some()),
        (MethodFilter::POST, item.post.is_some()),
        (MethodFilter::PUT, item.put.is_some()),
        (MethodFilter::PATCH, item.patch.is_some()),
        (MethodFilter::DELETE, item.delete.is_some()),
    ];
    for (method, documented) in operations {
        if documented {
            router = router.merge(on(method, forward).with_state(route.clone()));
        }
    }
    router
}

/// Reads the configuration again, from where it was read at start.
pub type Reread = Box<dyn Fn() -> anyhow::Result<Config> + Send + Sync>;

/// Serves the gateway on `config.listen` until Ctrl-C or `SIGTERM`; at every `SIGHUP`,
/// routes to the instances that `reread` names.
///
/// # Errors
/// When the key file cannot be read, a service has no instance configured, or the
/// listener fails.
pub async fn run(config: Config, reread: Reread) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let mut prepared = Prepared::new(&config).await?;
    prepared.background.push(tokio::spawn(reroute_on_hangup(
        prepared.pools.clone(),
        reread,
    )));
    let address = listener.local_addr()?;
    let scheme = if config.http.tls_cert_file.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!("ordo gateway is serving on {scheme}://{address}");
    prepared
        .serve(listener, crate::cli::shutdown_signal())
        .await
}

/// A gateway serving in the background, for tests and embedding.
pub struct Gateway {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    dropped: Arc<tokio::sync::Notify>,
}

impl Gateway {
    /// Binds `config.listen` and serves in the background.
    ///
    /// # Errors
    /// As [`run`].
    pub async fn start(config: Config) -> anyhow::Result<Gateway> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr()?;
        let prepared = Prepared::new(&config).await?;
        let dropped = prepared.dropped.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(prepared.serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(Gateway {
            address,
            stop: Some(stop),
            task,
            dropped,
        })
    }

    /// Notified whenever the public reads the gateway keeps are dropped, for a change of
    /// the catalogue it heard.
    #[must_use]
    pub fn reads_dropped(&self) -> Arc<tokio::sync::Notify> {
        self.dropped.clone()
    }

    /// Stops gracefully and waits for it.
    ///
    /// # Errors
    /// When serving failed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("gateway task")?
    }
}

/// The gateway's router and its background work, ready to serve.
struct Prepared {
    router: Router,
    options: ServeOptions,
    background: Vec<JoinHandle<()>>,
    /// Every service's instances.
    pools: Vec<Arc<Pool>>,
    /// Notified whenever the public reads kept are dropped for a change of the catalogue.
    dropped: Arc<tokio::sync::Notify>,
}

impl Prepared {
    async fn new(config: &Config) -> anyhow::Result<Prepared> {
        let _recorder = crate::ops::metrics_handle();
        let mut assembly = Assembly::for_routing(config).await?;
        registry::assemble(config, &mut assembly).await?;
        Prepared::routing(config, assembly)
    }

    async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let served = ordo_http::serve::serve(
            listener,
            self.router,
            self.options,
            Draining::default(),
            shutdown,
        )
        .await;
        for task in self.background {
            task.abort();
        }
        served.context("serving")
    }

    fn routing(config: &Config, assembly: Assembly) -> anyhow::Result<Prepared> {
        let limits = assembly.rate_limits(config);
        if config.redis_url.is_none() {
            tracing::warn!(
                "rate limits are this gateway's own: set redis_url (ORDO_REDIS_URL) for gateways to share them"
            );
        }
        let (services, verifier, keyring) = assembly.routing();
        let client = Client::builder(TokioExecutor::new()).build_http();
        let probes = reqwest::Client::new();
        let answer_within = Duration::from_secs(config.http.request_timeout_secs);
        let mut routes = Router::new();
        let mut pools = Vec::new();
        let mut documents = Vec::new();
        let mut watchers = Vec::new();
        // Kept only where the catalogue's changes can be heard.
        let cache = config.bus_url.as_ref().map(|url| {
            let cache = Arc::new(cache::Cache::default());
            watchers.push(tokio::spawn(cache.clone().forget_on_changes(
                url.expose().clone(),
                config.bus.subject_prefix.clone(),
            )));
            cache
        });
        for (service, paths) in services {
            let urls = config
                .services
                .get(service)
                .map(|endpoint| endpoint.urls.clone())
                .unwrap_or_default();
            anyhow::ensure!(
                !urls.is_empty(),
                "services.{service}.urls (ORDO_SERVICES__{}__URLS) is not set: the gateway routes to every service",
                service.to_uppercase()
            );
            let pool = Arc::new(Pool::new(service, &urls));
            watchers.push(tokio::spawn(
                pool.clone().watch(probes.clone(), PROBE_EVERY),
            ));
            let route = Arc::new(Route {
                pool: pool.clone(),
                client: client.clone(),
                answer_within,
                cache: cache.clone().filter(|_| CACHED.contains(&service)),
            });
            for (path, item) in &paths.api.paths.paths {
                routes = routes.route(&format!("/api/v1{path}"), methods(item, &route));
            }
            for (path, item) in &paths.root.paths.paths {
                routes = routes.route(path, methods(item, &route));
            }
            pools.push(pool);
            documents.push(paths);
        }
        let routes = routes
            .route("/healthz", get(|| async { "ok" }))
            .route(
                "/readyz",
                get(ready).with_state(Arc::new(Readiness {
                    pools: pools.clone(),
                    limits: limits.clone(),
                })),
            )
            .route(
                "/metrics",
                get(|| async { crate::ops::metrics_handle().render() }),
            );
        let document = gateway::document(documents);
        let router = gateway::router(
            (routes, document),
            &config.http,
            verifier.clone(),
            limits.clone(),
        )
        .merge(crate::web::router(
            &config.web,
            config.orders.accept_timeout_secs,
        ));
        watchers.push(tokio::spawn(crate::server::upkeep(
            keyring, verifier, limits,
        )));
        let options = config.http.serve_options()?;
        Ok(Prepared {
            router,
            options,
            background: watchers,
            pools,
            dropped: cache.map(|cache| cache.dropped()).unwrap_or_default(),
        })
    }
}

/// At every `SIGHUP`, reads the configuration again and routes each service to the
/// instances it names now. A configuration that cannot be read, or a service left without
/// instances, keeps what was there: a typo must not take the routes away.
async fn reroute_on_hangup(pools: Vec<Arc<Pool>>, reread: Reread) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(error) => {
            tracing::warn!(%error, "SIGHUP cannot be heard: the routes are read at start only");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        let config = match reread() {
            Ok(config) => config,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the configuration cannot be read again; the routes stay as they were"
                );
                metrics::counter!("gateway_route_table_reads_total", "outcome" => "refused")
                    .increment(1);
                continue;
            }
        };
        for pool in &pools {
            match config.services.get(pool.service) {
                Some(endpoint) if !endpoint.urls.is_empty() => {
                    pool.reconfigure(&endpoint.urls);
                    pool.refresh().await;
                }
                _ => tracing::warn!(
                    service = pool.service,
                    "services.{}.urls is not set any more; its instances stay as they were",
                    pool.service
                ),
            }
        }
        tracing::info!("the route table was read again");
        metrics::counter!("gateway_route_table_reads_total", "outcome" => "read").increment(1);
    }
}

/// What the gateway's readiness is read from.
struct Readiness {
    pools: Vec<Arc<Pool>>,
    limits: Arc<RateLimits>,
}

/// Ready while every service has an instance fit to take requests; otherwise 503 naming
/// those that have none. Rate limits that cannot be shared do not make the gateway unready
/// (each gateway limits on its own meanwhile), but are said.
async fn ready(State(state): State<Arc<Readiness>>) -> Response {
    let Readiness { pools, limits } = &*state;
    let down: Vec<&str> = pools
        .iter()
        .filter(|pool| !pool.has_ready())
        .map(|pool| pool.service)
        .collect();
    if down.is_empty() && limits.local_only() {
        "ready; rate limits are this gateway's own while Redis cannot be reached".into_response()
    } else if down.is_empty() {
        "ready".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no instance ready: {}", down.join(", ")),
        )
            .into_response()
    }
}
