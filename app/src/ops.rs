//! Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.
//!
//! Readiness is measured in the background — every database pinged concurrently, each
//! within a short timeout, every second — and `/readyz` answers from the last measurement
//! at once, so a load balancer sees an outage within seconds and never waits on it.

use crate::registry::Databases;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use ordo_http::serve::Draining;
use ordo_http::{Authenticated, Json, Problem};
use ordo_kernel::Role;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use tokio::time::Instant;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// How often readiness is measured, and how long one database may take to answer.
const PROBE_EVERY: Duration = Duration::from_secs(1);
const PING_TIMEOUT: Duration = Duration::from_secs(1);
/// A database is down after this many failed pings in a row: one slow ping behind a busy
/// pool is load, not an outage.
const DOWN_AFTER: u32 = 2;

/// The platform's readiness as last measured.
#[derive(Clone)]
pub struct Readiness {
    databases: Databases,
    bus: ordo_bus::BusHealth,
    /// The bus is unready once publishing has failed this long.
    bus_grace: Duration,
    measured: Arc<RwLock<Measured>>,
    /// Notified after every measurement, for whoever waits for readiness to change.
    notify: Arc<tokio::sync::Notify>,
    /// What the processes share, when the platform has a Redis: said, not required.
    redis: Option<ordo_redis::Redis>,
    limits: Option<Arc<ordo_http::ratelimit::RateLimits>>,
}

struct Measured {
    at: Option<Instant>,
    /// Failed pings in a row, per database.
    failures: BTreeMap<&'static str, u32>,
}

impl Readiness {
    #[must_use]
    pub fn new(databases: Databases, bus: ordo_bus::BusHealth, bus_grace: Duration) -> Self {
        Readiness {
            databases,
            bus,
            bus_grace,
            measured: Arc::new(RwLock::new(Measured {
                at: None,
                failures: BTreeMap::new(),
            })),
            notify: Arc::new(tokio::sync::Notify::new()),
            redis: None,
            limits: None,
        }
    }

    /// Says whether `redis` answers and, when `limits` are shared, whether they are now.
    /// Neither makes the process unready: what needs Redis fails on its own, and limits
    /// fall back to the process's.
    #[must_use]
    pub fn sharing(
        mut self,
        redis: Option<ordo_redis::Redis>,
        limits: Arc<ordo_http::ratelimit::RateLimits>,
    ) -> Self {
        if limits.is_shared() {
            self.limits = Some(limits);
        }
        self.redis = redis;
        self
    }

    /// Notified after every measurement.
    #[must_use]
    pub fn measured(&self) -> Arc<tokio::sync::Notify> {
        self.notify.clone()
    }

    /// Whether the platform is ready for traffic, as last measured.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.state().ready()
    }

    /// Pings every database at once, each within `PING_TIMEOUT`, and keeps the answers.
    pub async fn measure(&self) {
        let pings = self.databases.iter().map(|(name, db)| async move {
            let up = tokio::time::timeout(PING_TIMEOUT, db.ping())
                .await
                .unwrap_or(false);
            (*name, up)
        });
        let answers = futures_util::future::join_all(pings).await;
        {
            let mut measured = self.measured.write().expect("readiness lock");
            measured.at = Some(Instant::now());
            for (name, up) in answers {
                let failures = measured.failures.entry(name).or_default();
                *failures = if up { 0 } else { *failures + 1 };
            }
        }
        let ready = self.state().ready();
        metrics::gauge!("ordo_ready").set(if ready { 1.0 } else { 0.0 });
        self.notify.notify_waiters();
    }

    /// Measures every `PROBE_EVERY` until aborted.
    pub async fn run(self) {
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.measure().await;
        }
    }

    /// Every database's last answer, whether they are fresh, and whether the bus publishes.
    fn state(&self) -> Snapshot {
        let measured = self.measured.read().expect("readiness lock");
        // A probe that stopped measuring proves nothing.
        let fresh = measured
            .at
            .is_some_and(|at| at.elapsed() < PROBE_EVERY * 3 + PING_TIMEOUT);
        // Never ready before the broker was reached once; then unready only once publishing
        // has failed for the grace.
        let bus = self.bus.verified()
            && self
                .bus
                .failing_for()
                .is_none_or(|failing| failing < self.bus_grace);
        let bus_reason = if bus { None } else { self.bus.reason() };
        let databases = measured
            .failures
            .iter()
            .map(|(name, failures)| (*name, *failures < DOWN_AFTER))
            .collect();
        Snapshot {
            databases,
            fresh,
            bus,
            bus_reason,
            redis: self.redis.as_ref().map(ordo_redis::Redis::is_up),
            redis_reason: self.redis.as_ref().and_then(ordo_redis::Redis::refused),
            rate_limits: self.limits.as_ref().map(|limits| {
                if limits.local_only() {
                    "local"
                } else {
                    "shared"
                }
            }),
        }
    }
}

/// Readiness as read at one moment.
struct Snapshot {
    databases: BTreeMap<&'static str, bool>,
    fresh: bool,
    bus: bool,
    /// Why events cannot be published, when they cannot.
    bus_reason: Option<String>,
    redis: Option<bool>,
    /// Why Redis could not be connected to, while it cannot.
    redis_reason: Option<String>,
    rate_limits: Option<&'static str>,
}

impl Snapshot {
    fn ready(&self) -> bool {
        self.fresh && self.bus && self.databases.values().all(|up| *up)
    }
}

#[derive(Clone)]
pub struct OpsState {
    databases: Databases,
    readiness: Readiness,
    draining: Draining,
    metrics: PrometheusHandle,
    metrics_public: bool,
}

/// The process-wide Prometheus recorder; installed once, shared by every platform in the
/// process (tests start several).
#[must_use]
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            PrometheusBuilder::new()
                .set_buckets(&buckets)
                .expect("constant buckets are valid")
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// The operational routes over the platform's databases, readiness and drain state;
/// `/metrics` needs an administrator unless `metrics_public`.
pub fn router(
    databases: Databases,
    readiness: Readiness,
    draining: Draining,
    metrics_public: bool,
) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .with_state(OpsState {
            databases,
            readiness,
            draining,
            metrics: metrics_handle(),
            metrics_public,
        })
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready`, `starting` (its databases are being opened), `draining` or
    /// `unavailable`.
    status: &'static str,
    /// Per service database: whether it answers (false after two failed probes in a row).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    databases: BTreeMap<&'static str, bool>,
    /// Whether events can be published (false until the broker was reached once, and once
    /// publishing has failed for longer than `bus.unready_after_secs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    bus: Option<bool>,
    /// Why the bus is not ready: the broker's error, as the log says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    bus_error: Option<String>,
    /// With a Redis: whether it answers. Not a condition of readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<bool>,
    /// Why Redis cannot be reached: its error (or TLS's), as the log says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    redis_error: Option<String>,
    /// With a Redis: `shared` (one allowance per client across processes) or `local` (each
    /// process its own, while Redis cannot be asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limits: Option<&'static str>,
}

/// Serves `listener` while the process opens its databases, which may wait for them, until
/// `opened`: alive (`/healthz` 200), not ready (`/readyz` 503), everything else 503 with
/// `Retry-After`; so neither a supervisor's liveness probe nor a client mistakes waiting
/// for a dead process.
///
/// # Errors
/// The listener failing.
pub async fn serve_while_starting(
    listener: tokio::net::TcpListener,
    opened: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let starting = || Health {
        status: "starting",
        ..Health::default()
    };
    let router = axum::Router::new()
        .route(
            "/healthz",
            axum::routing::get(move || async move { Json(starting()) }),
        )
        .route(
            "/readyz",
            axum::routing::get(move || async move {
                (StatusCode::SERVICE_UNAVAILABLE, Json(starting()))
            }),
        )
        .fallback(|| async {
            Problem::unavailable(
                "ordo is starting: its databases are being opened",
                Duration::from_secs(1),
            )
        });
    axum::serve(listener, router)
        .with_graceful_shutdown(opened)
        .await
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        ..Health::default()
    })
}

/// Readiness, as measured at most a second ago: every database answers, events can be
/// published, and the process is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = Health),
        (status = 503, description = "Draining, a database is down or events cannot be published", body = Health),
    ))]
async fn readyz(State(state): State<OpsState>) -> (StatusCode, Json<Health>) {
    let readiness = state.readiness.state();
    let status = if state.draining.is_draining() {
        "draining"
    } else if readiness.ready() {
        "ready"
    } else {
        "unavailable"
    };
    let code = if status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Health {
            status,
            bus: Some(readiness.bus),
            bus_error: readiness.bus_reason,
            databases: readiness.databases,
            redis: readiness.redis,
            redis_error: readiness.redis_reason,
            rate_limits: readiness.rate_limits,
        }),
    )
}

/// Prometheus metrics: requests by route and status, latencies, database pools.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 403, description = "Restricted to administrators by configuration", body = Problem),
    ))]
async fn metrics(State(state): State<OpsState>, caller: Option<Authenticated>) -> Response {
    if !state.metrics_public {
        let allowed = caller
            .as_ref()
            .map(|c| ordo_http::require(&c.0, &[Role::Admin]));
        match allowed {
            None => {
                return Problem::unauthorized("metrics need an administrator's token")
                    .into_response();
            }
            Some(Err(problem)) => return problem.into_response(),
            Some(Ok(())) => {}
        }
    }
    for db in state.databases.values() {
        db.record_pool_metrics();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Adds the document's own route to it, so that it too is described.
pub fn describe_openapi_route(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::{ContentBuilder, ResponseBuilder};
    let operation = OperationBuilder::new()
        .summary(Some("This OpenAPI 3.1 document"))
        .tag("operations")
        .response(
            "200",
            ResponseBuilder::new()
                .description("The document")
                .content("application/json", ContentBuilder::new().build()),
        )
        .build();
    document.paths.paths.insert(
        OPENAPI_PATH.into(),
        PathItem::new(HttpMethod::Get, operation),
    );
}

/// Serves the document, serialised once at start.
pub fn openapi_route(document: &utoipa::openapi::OpenApi) -> axum::routing::MethodRouter {
    let body: Arc<[u8]> = serde_json::to_vec(document)
        .expect("the OpenAPI document serialises")
        .into();
    axum::routing::get(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body.to_vec()) }
    })
}
