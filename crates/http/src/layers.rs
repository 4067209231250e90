//! The layers every request passes through, in the same order for every service: request
//! id, trace context and span, metrics, security headers, CORS, head limits, timeout,
//! identifying the caller, rate limits, refusing invalid tokens, body limit. `apply` puts
//! them on a router.

use crate::auth::{self, Verifier};
use crate::extract::TrustedProxies;
use crate::problem::Problem;
use crate::ratelimit::{self, RateLimits};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use ordo_kernel::trace::TraceContext;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::Instrument;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// What the layers need to know; taken from the configuration by the app.
#[derive(Debug, Clone)]
pub struct LayerSettings {
    pub body_limit_bytes: usize,
    /// Longer request targets (path and query) get 414.
    pub max_uri_bytes: usize,
    /// Header fields larger than this in total (each counted as `name: value` and its line
    /// end) get 431.
    pub max_header_bytes: usize,
    pub request_timeout: Duration,
    /// Origins allowed by CORS; empty means no CORS headers at all.
    pub cors_origins: Vec<HeaderValue>,
    /// Send `Strict-Transport-Security`: the platform is reached over TLS.
    pub hsts: bool,
    /// Proxies (a gateway, a load balancer) whose `X-Forwarded-For` says who the client is.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Wraps `router` in the standard stack. Requests that match no route get problem+json
/// 404/405 and pass through the same layers.
pub fn apply(
    router: Router,
    settings: &LayerSettings,
    verifier: Arc<Verifier>,
    limits: Arc<RateLimits>,
) -> Router {
    let timeout = settings.request_timeout;
    let head = HeadLimits {
        uri_bytes: settings.max_uri_bytes,
        header_bytes: settings.max_header_bytes,
    };
    let cors = (!settings.cors_origins.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(settings.cors_origins.clone()))
            .allow_methods(tower_http::cors::Any)
            .allow_headers(tower_http::cors::Any)
            .expose_headers([X_REQUEST_ID.clone(), header::RETRY_AFTER])
            .max_age(Duration::from_secs(600))
    });
    let hsts = settings.hsts.then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    router
        .fallback(|| async { Problem::not_found("no route matches this path") })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
        .layer(
            ServiceBuilder::new()
                .layer(axum::Extension(TrustedProxies(Arc::new(
                    settings.trusted_proxies.clone(),
                ))))
                .layer(SetRequestIdLayer::new(
                    X_REQUEST_ID.clone(),
                    MakeRequestUuidV7,
                ))
                .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
                .layer(middleware::from_fn(observe))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .option_layer(hsts)
                .option_layer(cors)
                .layer(middleware::from_fn(move |request: Request, next: Next| {
                    head_within(head, request, next)
                }))
                .layer(middleware::from_fn(move |request: Request, next: Next| {
                    within(timeout, request, next)
                }))
                .layer(middleware::from_fn_with_state(verifier, auth::identify))
                .layer(middleware::from_fn_with_state(limits, ratelimit::limit))
                .layer(middleware::from_fn(auth::refuse_invalid_token))
                .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
                .layer(middleware::map_response(too_large_as_problem)),
        )
}

/// A handler that takes its body as bytes (a signed webhook, whose signature covers the
/// exact bytes) gets axum's own refusal of a body over the limit, in plain text: it is
/// answered as a problem document, as every other error.
async fn too_large_as_problem(response: Response) -> Response {
    let bare = response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|value| value != crate::problem::CONTENT_TYPE);
    if bare {
        Problem::payload_too_large("the request body is larger than this server accepts")
            .into_response()
    } else {
        response
    }
}

#[derive(Clone, Copy)]
struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&ordo_kernel::new_id().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Opens the request span (continuing the caller's trace), logs the outcome once and
/// records `http_requests_total` and `http_request_duration_seconds`. Public routes get it
/// from [`apply`]; the internal ones, which take none of the rest, on their own.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let parent = request
        .headers()
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::parse);
    let span = tracing::info_span!(
        "request",
        http.method = %method,
        http.route = %route,
        request.id = %request_id,
        trace.id = tracing::field::Empty,
        user.id = tracing::field::Empty,
    );
    let trace = ordo_telemetry::join(&span, parent);
    span.record("trace.id", trace.trace_id_hex());
    request.extensions_mut().insert(trace);
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            http.status = status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
    response
}

#[derive(Debug, Clone, Copy)]
struct HeadLimits {
    uri_bytes: usize,
    header_bytes: usize,
}

/// Refuses a request head over the limits with a problem document, as every other error.
/// The HTTP parser's own ceilings (a 64 KiB target, about 400 KiB of head, 100 header
/// fields) answer without a body; the byte limits here sit well below the first two, so
/// they are the ones clients meet.
async fn head_within(limits: HeadLimits, request: Request, next: Next) -> Response {
    let uri = request.uri();
    let uri_bytes = uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    if uri_bytes > limits.uri_bytes {
        return Problem::uri_too_long(format!(
            "the request target is longer than {} bytes",
            limits.uri_bytes
        ))
        .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > limits.header_bytes {
        return Problem::header_fields_too_large(format!(
            "the header fields are larger than {} bytes in total",
            limits.header_bytes
        ))
        .into_response();
    }
    next.run(request).await
}

/// A handler that has not answered within the limit gets 503, so a stuck dependency
/// cannot hold connections forever.
async fn within(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis(), "request timed out");
            Problem::unavailable("the request took too long", Duration::from_secs(1))
                .into_response()
        }
    }
}
