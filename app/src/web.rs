//! The web apps (`web/`), embedded in the binary and served beside the API: each app's page
//! at its path (`/`, `/merchant`, `/courier`, `/ops`), and every file under
//! `/assets/{build}/…`, where `build` is a hash of all the files, so that a file's address
//! changes whenever any file changes and can be cached for a year. Pages are revalidated
//! by ETag. Text is gzipped once, on first asking. Everything carries a
//! Content-Security-Policy that allows no inline script or style.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flate2::Compression;
use flate2::write::GzEncoder;
use ordo_http::Problem;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(rust_embed::Embed)]
#[folder = "../web"]
#[exclude = "tests/*"]
#[exclude = "*.sh"]
#[exclude = "*.md"]
#[exclude = "package*.json"]
#[exclude = "node_modules/*"]
struct Files;

/// What is served at a fixed address, from a file in `web/` with the settings filled in:
/// each app's page, and the courier app's manifest and service worker (whose addresses an
/// installed app keeps).
const PAGES: [(&str, &str); 6] = [
    ("/", "customer/index.html"),
    ("/merchant", "merchant/index.html"),
    ("/courier", "courier/index.html"),
    (
        "/courier/manifest.webmanifest",
        "courier/manifest.webmanifest",
    ),
    ("/courier/sw.js", "courier/sw.js"),
    ("/ops", "ops/index.html"),
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Map tiles, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`; empty: maps on a
    /// plain background, nothing fetched from elsewhere.
    pub tile_url: String,
}

impl WebConfig {
    /// # Errors
    /// A tile URL that is not http(s).
    pub fn validate(&self) -> Result<(), String> {
        if self.tile_url.is_empty() || tile_origin(&self.tile_url).is_some() {
            Ok(())
        } else {
            Err("web.tile_url: must be an http:// or https:// URL with {z}/{x}/{y}".into())
        }
    }
}

/// `https://host[:port]` of a tile URL, for the policy's `img-src`.
fn tile_origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    let host = &rest[..host_end];
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '{' | '}'))
        && url.contains("{z}");
    valid.then(|| &url[..url.len() - rest.len() + host_end])
}

/// The files an installed app needs offline: its own, the shared ones and the vendored
/// libraries, at their addresses under `prefix` (not the pages, nor the licences).
fn shell(names: &[String], app: &str, prefix: &str) -> Vec<String> {
    names
        .iter()
        .filter(|name| {
            let file = name.rsplit('/').next().unwrap_or(name);
            let ours = name.starts_with(&format!("{app}/"))
                || name.starts_with("shared/")
                || name.starts_with("vendor/");
            ours && !file.starts_with("LICENSE")
                && !PAGES.iter().any(|(_, page)| *page == name.as_str())
        })
        .map(|name| format!("{prefix}/{name}"))
        .collect()
}

struct Web {
    build: String,
    /// Each page with the asset prefix and the settings filled in, and its media type.
    pages: HashMap<&'static str, (Vec<u8>, &'static str)>,
    policy: HeaderValue,
    gzipped: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Web {
    fn new(config: &WebConfig, accept_timeout_secs: u64) -> Web {
        let mut names: Vec<String> = Files::iter().map(|name| name.into_owned()).collect();
        names.sort();
        let mut digest = Vec::new();
        for name in &names {
            if let Some(file) = Files::get(name) {
                digest.extend_from_slice(name.as_bytes());
                digest.extend_from_slice(&file.metadata.sha256_hash());
            }
        }
        let build: String = ring::digest::digest(&ring::digest::SHA256, &digest)
            .as_ref()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        let prefix = format!("/assets/{build}");
        let tile_url = escape_attribute(&config.tile_url);
        let courier_shell = serde_json::to_string(&shell(&names, "courier", &prefix))
            .unwrap_or_else(|_| "[]".into());
        let pages = PAGES
            .iter()
            .filter_map(|(path, page)| {
                let file = Files::get(page)?;
                let text = String::from_utf8_lossy(&file.data)
                    .replace("{{assets}}", &prefix)
                    .replace("{{tile_url}}", &tile_url)
                    .replace("{{accept_timeout_secs}}", &accept_timeout_secs.to_string())
                    .replace("{{courier_shell}}", &courier_shell);
                Some((*path, (text.into_bytes(), content_type(page))))
            })
            .collect();
        let tiles = tile_origin(&config.tile_url).unwrap_or("");
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: {tiles}; \
             connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        );
        Web {
            build,
            pages,
            policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
            gzipped: Mutex::new(HashMap::new()),
        }
    }

    fn gzip(&self, key: &str, data: &[u8]) -> Arc<Vec<u8>> {
        let mut cache = self
            .gzipped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .entry(key.to_owned())
            .or_insert_with(|| {
                let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
                // Writing to a Vec cannot fail.
                let _ = encoder.write_all(data);
                Arc::new(encoder.finish().unwrap_or_default())
            })
            .clone()
    }

    /// `data` as `content_type`, gzipped when the client takes it and it is text, `304`
    /// when the client has `etag` already.
    fn answer(
        &self,
        headers: &HeaderMap,
        data: &[u8],
        content_type: &'static str,
        etag: &str,
        cache: &'static str,
    ) -> Response {
        let tag = HeaderValue::from_str(&format!("\"{etag}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("\"\""));
        let mut response = if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|seen| seen.as_bytes() == tag.as_bytes())
        {
            StatusCode::NOT_MODIFIED.into_response()
        } else if compressible(content_type) && accepts_gzip(headers) {
            // Keyed by the ETag, which follows the content: a changed file is gzipped anew.
            let body = self.gzip(etag, data);
            let mut response = (*body).clone().into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        } else {
            data.to_vec().into_response()
        };
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(header::ETAG, tag);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        h.insert(header::CONTENT_SECURITY_POLICY, self.policy.clone());
        response
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/javascript")
        || content_type.starts_with("application/manifest+json")
        || content_type.starts_with("image/svg")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "application/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "webmanifest" => "application/manifest+json",
        "json" => "application/json",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}

async fn page(State(web): State<Arc<Web>>, path: &'static str, headers: HeaderMap) -> Response {
    match web.pages.get(path) {
        Some((page, content_type)) => {
            let etag = format!("{}-{}", web.build, page.len());
            let mut response = web.answer(&headers, page, content_type, &etag, "no-cache");
            if let Some(scope) = path.strip_suffix("/sw.js") {
                // The worker serves its app's page, one level above the worker's own path.
                if let Ok(scope) = HeaderValue::from_str(scope) {
                    response
                        .headers_mut()
                        .insert("service-worker-allowed", scope);
                }
            }
            response
        }
        None => Problem::not_found("no such page").into_response(),
    }
}

async fn asset(
    State(web): State<Arc<Web>>,
    Path((build, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if build != web.build {
        return Problem::not_found("no such file in this version of the apps").into_response();
    }
    let Some(file) = Files::get(&path) else {
        return Problem::not_found("no such file").into_response();
    };
    let etag: String = file
        .metadata
        .sha256_hash()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    web.answer(
        &headers,
        &file.data,
        content_type(&path),
        &etag,
        "public, max-age=31536000, immutable",
    )
}

/// The apps' pages and files; `accept_timeout_secs` is how long merchants have to accept an
/// order, which their board counts down.
pub fn router(config: &WebConfig, accept_timeout_secs: u64) -> Router {
    let web = Arc::new(Web::new(config, accept_timeout_secs));
    let mut router = Router::new()
        .route("/assets/{build}/{*path}", get(asset))
        .route("/runbook", get(crate::runbook::page));
    let served: Vec<&'static str> = web.pages.keys().copied().collect();
    for path in served {
        router = router.route(
            path,
            get(move |state: State<Arc<Web>>, headers: HeaderMap| page(state, path, headers)),
        );
    }
    router.with_state(web)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_urls_give_their_origin_to_the_policy() {
        assert_eq!(
            tile_origin("https://tile.example.org/{z}/{x}/{y}.png"),
            Some("https://tile.example.org")
        );
        assert_eq!(
            tile_origin("http://localhost:8081/tiles/{z}/{x}/{y}.png"),
            Some("http://localhost:8081")
        );
        assert_eq!(tile_origin("javascript:alert(1)"), None);
        assert_eq!(tile_origin("https://evil.org; script-src *"), None);
    }
}
