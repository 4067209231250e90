//! The gateway's small cache of public reads: what a service answered an anonymous `GET`
//! with `Cache-Control: public, max-age=…` (the catalogue's and search's reads, see
//! `ordo_http::caching`) is answered from here while fresh, `304` to a client that holds
//! it. Every event of the catalogue (a merchant, a product, a price changed) drops it all:
//! the gateway hears them as they are relayed to the broker, and what it missed while
//! away ages out within `max-age`.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most reads kept, and the largest body.
const MOST_ENTRIES: usize = 2048;
const MOST_BYTES: u64 = 256 * 1024;

struct Entry {
    until: Instant,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
    dropped: std::sync::Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

impl Cache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The answer kept for `key` while fresh: `304` when `asked` holds its tag.
    pub fn answer(&self, key: &str, asked: &HeaderMap) -> Option<Response> {
        let (headers, body) = {
            let entries = self.entries();
            let entry = entries.get(key).filter(|e| e.until > Instant::now())?;
            (entry.headers.clone(), entry.body.clone())
        };
        metrics::counter!("gateway_cache_hits_total").increment(1);
        let held = headers
            .get(header::ETAG)
            .is_some_and(|etag| ordo_http::caching::holds(asked, etag));
        let mut response = if held {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            Response::new(Body::from(body))
        };
        for (name, value) in &headers {
            if held && name == header::CONTENT_LENGTH {
                continue;
            }
            response.headers_mut().append(name, value.clone());
        }
        Some(response)
    }

    /// Keeps `body` for `key` when `headers` let shared caches keep it.
    pub fn keep(&self, key: String, headers: &HeaderMap, body: Bytes) {
        let Some(fresh_for) = public_max_age(headers) else {
            return;
        };
        let mut entries = self.entries();
        if entries.len() >= MOST_ENTRIES {
            let now = Instant::now();
            entries.retain(|_, e| e.until > now);
            if entries.len() >= MOST_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                until: Instant::now() + fresh_for,
                headers: headers.clone(),
                body,
            },
        );
    }

    fn clear(&self) {
        self.entries().clear();
        self.dropped.notify_waiters();
    }

    /// Notified whenever everything kept is dropped.
    pub fn dropped(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.dropped.clone()
    }

    /// Drops everything kept whenever the catalogue publishes an event, heard on the
    /// broker's `{subject_prefix}.catalog.>` for as long as the gateway runs.
    pub async fn forget_on_changes(
        self: std::sync::Arc<Self>,
        url: String,
        subject_prefix: String,
    ) {
        let client = match async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(url.as_str())
            .await
        {
            Ok(client) => client,
            Err(error) => {
                tracing::warn!(%error, "the gateway cannot hear the catalogue's changes; it keeps no reads");
                return;
            }
        };
        let subject = format!("{subject_prefix}.catalog.>");
        let mut changes = match client.subscribe(subject).await {
            Ok(changes) => changes,
            Err(error) => {
                tracing::warn!(%error, "the gateway cannot hear the catalogue's changes; it keeps no reads");
                return;
            }
        };
        while changes.next().await.is_some() {
            self.clear();
        }
    }
}

/// `max-age` of a `Cache-Control` that says `public`, when it does.
fn public_max_age(headers: &HeaderMap) -> Option<Duration> {
    let control = headers.get(header::CACHE_CONTROL)?.to_str().ok()?;
    let directives: Vec<&str> = control.split(',').map(str::trim).collect();
    if !directives.contains(&"public") {
        return None;
    }
    directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age="))
        .and_then(|seconds| seconds.parse().ok())
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs)
}

/// Whether a request may be answered from the cache: an anonymous read.
pub fn may_answer(method: &axum::http::Method, headers: &HeaderMap) -> bool {
    *method == axum::http::Method::GET && !headers.contains_key(header::AUTHORIZATION)
}

/// Whether an answer is one to keep: `200`, public, and small (of a length known before it
/// is read).
pub fn worth_keeping(status: StatusCode, headers: &HeaderMap, length: Option<u64>) -> bool {
    status == StatusCode::OK
        && length.is_some_and(|length| length <= MOST_BYTES)
        && public_max_age(headers).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &'static str) -> axum::http::HeaderValue {
        axum::http::HeaderValue::from_static(text)
    }

    fn public() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, value(ordo_http::caching::PUBLIC));
        headers.insert(header::ETAG, value("\"abc\""));
        headers
    }

    #[test]
    fn only_public_reads_are_kept_and_held_ones_are_304() {
        let cache = Cache::default();
        let mut private = HeaderMap::new();
        private.insert(header::CACHE_CONTROL, value("private, no-cache"));
        cache.keep("/a".into(), &private, Bytes::from_static(b"mine"));
        assert!(cache.answer("/a", &HeaderMap::new()).is_none());

        cache.keep("/b".into(), &public(), Bytes::from_static(b"menu"));
        let kept = cache.answer("/b", &HeaderMap::new()).unwrap();
        assert_eq!(kept.status(), StatusCode::OK);
        let mut asked = HeaderMap::new();
        asked.insert(header::IF_NONE_MATCH, value("\"abc\""));
        assert_eq!(
            cache.answer("/b", &asked).unwrap().status(),
            StatusCode::NOT_MODIFIED
        );
        cache.clear();
        assert!(cache.answer("/b", &HeaderMap::new()).is_none());
    }
}
