//! Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use crate::platform::{Databases, Platform};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use ordo_http::serve::Draining;
use ordo_http::{Caller, Json, Problem};
use ordo_kernel::Role;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

#[derive(Clone)]
pub struct OpsState {
    databases: Databases,
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

pub fn router(platform: &Platform) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .with_state(OpsState {
            databases: platform.databases.clone(),
            draining: platform.draining.clone(),
            metrics: metrics_handle(),
            metrics_public: platform.config.http.metrics_public,
        })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready`, `draining` or `unavailable`.
    status: &'static str,
    /// Per service database: whether it answers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    databases: BTreeMap<&'static str, bool>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        databases: BTreeMap::new(),
    })
}

/// Readiness: every database answers and the process is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready for traffic", body = Health),
        (status = 503, description = "Draining or a database is down", body = Health),
    ))]
async fn readyz(State(state): State<OpsState>) -> (StatusCode, Json<Health>) {
    let mut databases = BTreeMap::new();
    for (name, db) in &state.databases {
        databases.insert(*name, db.ping().await);
    }
    let status = if state.draining.is_draining() {
        "draining"
    } else if databases.values().all(|up| *up) {
        "ready"
    } else {
        "unavailable"
    };
    let code = if status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(Health { status, databases }))
}

/// Prometheus metrics: requests by route and status, latencies, database pools.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 403, description = "Restricted to administrators by configuration", body = Problem),
    ))]
async fn metrics(State(state): State<OpsState>, caller: Option<Caller>) -> Response {
    if !state.metrics_public {
        let allowed = caller.as_ref().map(|c| c.require(&[Role::Admin]));
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
