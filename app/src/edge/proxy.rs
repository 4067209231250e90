//! Forwarding one request to an instance of the service whose route it is, and its answer
//! back, bodies streamed both ways (a live stream stays open through it). A request that is
//! safe to repeat (GET, HEAD, or one with an `Idempotency-Key`) is sent to another instance
//! when the first could not be reached; nothing else is ever sent twice.

use super::cache::{self, Cache};
use super::pool::{Instance, Pool};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use ordo_http::Problem;
use ordo_kernel::trace::TraceContext;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The largest body kept to be sent again: past it, a request is sent once.
const REPLAYABLE_BYTES: usize = 1024 * 1024;

/// How long a client waits before trying a service with no instance answering again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Headers of one connection, not of the request: never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

/// Where one service's routes go.
pub struct Route {
    pub pool: Arc<Pool>,
    pub client: Client<HttpConnector, Body>,
    /// How long an instance has to start answering.
    pub answer_within: Duration,
    /// Public reads kept, for the services whose reads are public.
    pub cache: Option<Arc<Cache>>,
}

/// Forwards `request` to an instance of the route's service.
pub async fn forward(State(route): State<Arc<Route>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let replayable = parts.method == Method::GET
        || parts.method == Method::HEAD
        || parts.headers.contains_key("idempotency-key");
    let mut kept = None;
    let mut body = Some(body);
    if replayable {
        match axum::body::to_bytes(body.take().unwrap_or_default(), REPLAYABLE_BYTES).await {
            Ok(bytes) => kept = Some(bytes),
            Err(_) => {
                return Problem::payload_too_large("the request body is too large to forward")
                    .into_response();
            }
        }
    }
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let trace = parts.extensions.get::<TraceContext>().copied();
    upstream_headers(&mut parts.headers, peer, trace);
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let cache_key = route
        .cache
        .as_ref()
        .filter(|_| cache::may_answer(&parts.method, &parts.headers))
        .map(|_| path.clone());
    if let (Some(cache), Some(key)) = (&route.cache, &cache_key)
        && let Some(answer) = cache.answer(key, &parts.headers)
    {
        return answer;
    }
    let mut tried: Option<Arc<Instance>> = None;
    loop {
        let Some(instance) = route.pool.choose(tried.as_ref()) else {
            return unavailable(&route.pool, "no instance answers");
        };
        let Ok(uri) = format!("{}{path}", instance.base).parse::<Uri>() else {
            return unavailable(&route.pool, "an instance's address is not a URL");
        };
        let mut upstream = axum::http::Request::new(match &kept {
            Some(bytes) => Body::from(bytes.clone()),
            None => body.take().unwrap_or_default(),
        });
        *upstream.method_mut() = parts.method.clone();
        *upstream.uri_mut() = uri;
        *upstream.headers_mut() = parts.headers.clone();
        let _in_flight = instance.begin();
        let sent = tokio::time::timeout(route.answer_within, route.client.request(upstream)).await;
        match sent {
            Ok(Ok(response)) => {
                if response.status().is_server_error() {
                    instance.failed();
                } else {
                    instance.succeeded();
                }
                let (mut head, incoming) = response.into_parts();
                for name in &HOP_BY_HOP {
                    head.headers.remove(name);
                }
                let length = axum::body::HttpBody::size_hint(&incoming).exact();
                if let (Some(cache), Some(key)) = (&route.cache, cache_key)
                    && cache::worth_keeping(head.status, &head.headers, length)
                {
                    return match axum::body::to_bytes(Body::new(incoming), usize::MAX).await {
                        Ok(body) => {
                            cache.keep(key, &head.headers, body.clone());
                            Response::from_parts(head, Body::from(body))
                        }
                        Err(error) => {
                            instance.failed();
                            tracing::warn!(service = route.pool.service, %error, "an answer broke off");
                            unavailable(&route.pool, "the instance's answer broke off")
                        }
                    };
                }
                return Response::from_parts(head, Body::new(incoming));
            }
            Ok(Err(error)) => {
                instance.failed();
                let unsent = error.is_connect();
                tracing::warn!(service = route.pool.service, instance = %instance.base, %error, unsent, "forwarding failed");
                if unsent && kept.is_some() && tried.is_none() {
                    tried = Some(instance);
                    continue;
                }
                return unavailable(&route.pool, "the instance could not be reached");
            }
            Err(_) => {
                instance.failed();
                return unavailable(&route.pool, "the instance did not answer in time");
            }
        }
    }
}

fn unavailable(pool: &Pool, why: &str) -> Response {
    Problem::unavailable(format!("{}: {why}", pool.service), RETRY_AFTER).into_response()
}

/// The request's headers as the instance gets them: without this connection's own, with
/// the client's address and the gateway's place in the trace.
fn upstream_headers(
    headers: &mut HeaderMap,
    peer: Option<std::net::IpAddr>,
    trace: Option<TraceContext>,
) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(header::HOST);
    if let Some(peer) = peer {
        let forwarded = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(earlier) => format!("{earlier}, {peer}"),
            None => peer.to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&forwarded) {
            headers.insert("x-forwarded-for", value);
        }
    }
    if let Some(trace) = trace
        && let Ok(value) = HeaderValue::from_str(&trace.to_string())
    {
        headers.insert("traceparent", value);
    }
}
