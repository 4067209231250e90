//! Public reads that a CDN, a gateway or a browser may keep: a strong `ETag` from the body,
//! `304 Not Modified` when `If-None-Match` names it, and `Cache-Control` that lets shared
//! caches keep what anonymous clients read for a short while (and serve it stale while they
//! ask again). What a caller with a token reads may be theirs: it is `private`, revalidated
//! each time, and still answered `304` when unchanged.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

/// How long shared caches keep an anonymous read, and serve it stale while asking again.
pub const PUBLIC: &str = "public, max-age=30, stale-while-revalidate=60";
const PRIVATE: &str = "private, no-cache";
/// Bodies larger than this, or of a length not known beforehand (streams), are passed on
/// without a tag rather than held to hash.
const MOST_TAGGED: usize = 1024 * 1024;

/// Middleware for routers of public reads: tags `GET` and `HEAD` answers `200` that carry no
/// tag of their own, and answers `304` to a client holding the same.
pub async fn tagged(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let anonymous = !request.headers().contains_key(header::AUTHORIZATION);
    let held = request.headers().clone();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::ETAG) {
        return response;
    }
    let known = hyper::body::Body::size_hint(response.body()).exact();
    if known.is_none_or(|length| length > MOST_TAGGED as u64) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return crate::Problem::internal(&error).into_response(),
    };
    let etag = etag_of(&bytes);
    let headers = &mut parts.headers;
    headers.insert(header::ETAG, etag.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if anonymous { PUBLIC } else { PRIVATE }),
    );
    headers.append(header::VARY, HeaderValue::from_static("Authorization"));
    if holds(&held, &etag) {
        let mut unchanged = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
            for value in parts.headers.get_all(&name) {
                unchanged.headers_mut().append(&name, value.clone());
            }
        }
        return unchanged;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A strong tag: the first 128 bits of the body's SHA-256, the same in every instance.
fn etag_of(body: &[u8]) -> HeaderValue {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// Whether `If-None-Match` names `etag`, or any (`*`); weak tags compare as strong ones
/// (RFC 9110's weak comparison, the one `If-None-Match` uses).
#[must_use]
pub fn holds(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route("/menu", get(|| async { "margherita, minestrone" }))
            .route("/gone", get(|| async { StatusCode::NOT_FOUND }))
            .layer(axum::middleware::from_fn(tagged))
    }

    async fn ask(path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        app()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_read_is_tagged_and_unchanged_is_304() {
        let first = ask("/menu", &[]).await;
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(first.headers()[header::CACHE_CONTROL], PUBLIC);
        let again = ask("/menu", &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG].to_str().unwrap(), etag);
        let weak = format!("\"other\", W/{etag}");
        assert_eq!(
            ask("/menu", &[("if-none-match", &weak)]).await.status(),
            StatusCode::NOT_MODIFIED
        );
        let stale = ask("/menu", &[("if-none-match", "\"other\"")]).await;
        assert_eq!(stale.status(), StatusCode::OK);
        let body = stale.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"margherita, minestrone");
    }

    #[tokio::test]
    async fn a_callers_read_is_private_and_errors_are_not_tagged() {
        let own = ask("/menu", &[("authorization", "Bearer x")]).await;
        assert_eq!(own.headers()[header::CACHE_CONTROL], PRIVATE);
        assert!(own.headers().contains_key(header::ETAG));
        let gone = ask("/gone", &[]).await;
        assert!(!gone.headers().contains_key(header::ETAG));
    }
}
