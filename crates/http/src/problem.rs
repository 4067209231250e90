//! Every error leaves the platform as `application/problem+json` (RFC 9457) with a stable
//! `type`. Server errors say nothing internal: the cause is logged once, in the request's
//! span, and the body only carries the request id the operator can search for.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;

pub const CONTENT_TYPE: &str = "application/problem+json";
/// When a client may retry a request that found a dependency down.
const DEPENDENCY_RETRY: Duration = Duration::from_secs(2);
const TYPE_BASE: &str = "https://ordo.dev/problems/";

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's path in the body, e.g. `email` or `items[2].quantity`.
    pub field: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A stable URI naming the kind of problem; clients branch on it.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind (always the same for one `type`).
    #[schema(value_type = String)]
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Members particular to one kind of problem (RFC 9457 §3.2), e.g. the items that are
    /// out of stock.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extensions: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    #[serde(skip)]
    retry_after: Option<Duration>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            kind: format!("{TYPE_BASE}{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            extensions: None,
            retry_after: None,
        }
    }

    /// Adds a member particular to this kind of problem.
    #[must_use]
    pub fn with_extension(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions
            .get_or_insert_with(Box::default)
            .insert(name.to_owned(), value);
        self
    }

    #[must_use]
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "Malformed request",
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn conflict(slug: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, slug, "Conflict", detail)
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            detail,
        )
    }

    pub fn uri_too_long(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "URI too long",
            detail,
        )
    }

    pub fn header_fields_too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header-fields-too-large",
            "Request header fields too large",
            detail,
        )
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this resource does not support the method",
        )
    }

    /// Invalid fields: 422 with one entry per field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid request",
            format!("invalid fields: {}", fields.join(", ")),
        );
        problem.errors = errors;
        problem
    }

    /// A domain's violations as a 422.
    #[must_use]
    pub fn invalid(violations: ordo_kernel::Violations) -> Self {
        Self::validation(
            violations
                .into_vec()
                .into_iter()
                .map(|v| FieldError::new(v.field, v.message))
                .collect(),
        )
    }

    pub fn rate_limited(wait: Duration) -> Self {
        Self::too_many(
            "slow down and retry after the time given in Retry-After",
            wait,
        )
    }

    /// 429 saying what was too many (`detail`), to be tried again after `wait`.
    pub fn too_many(detail: impl Into<String>, wait: Duration) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            detail,
        )
        .with_retry_after(wait)
    }

    pub fn unavailable(detail: impl Into<String>, wait: Duration) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
        .with_retry_after(wait)
    }

    /// A 500 whose cause is logged here, once, inside the current (request) span; or a
    /// 503 with `Retry-After` when the cause is a dependency that is down (a database that
    /// does not answer in time, another service unavailable): the client may retry.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut unavailable = is_unavailable(cause);
        let mut source = cause.source();
        while let Some(next) = source {
            chain.push_str(": ");
            chain.push_str(&next.to_string());
            unavailable |= is_unavailable(next);
            source = next.source();
        }
        if unavailable {
            tracing::warn!(error = %chain, "a dependency is unavailable");
            return Self::unavailable(
                "a service this request needs is unavailable; try again shortly",
                DEPENDENCY_RETRY,
            );
        }
        tracing::error!(error = %chain, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the request could not be completed; quote its x-request-id when reporting this",
        )
    }
}

/// A failure that means a dependency is down (a database that does not answer in time,
/// another service unavailable), not a fault: answered 503 with `Retry-After`. The layers
/// that know their outages wrap them in it, so this crate never needs to know what
/// storage or another service's client is.
#[derive(Debug, thiserror::Error)]
#[error("unavailable")]
pub struct Unavailable {
    #[source]
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl Unavailable {
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self {
            cause: cause.into(),
        }
    }
}

/// Whether `error` itself says a dependency is down (not its sources; the caller walks them).
fn is_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    error.is::<Unavailable>()
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(wait) = retry_after {
            // Whole seconds, rounded up: a client retrying at the given second must succeed.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ordo\""),
            );
        }
        response
    }
}
