use crate::app::{Payments, WebhookOutcome};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ordo_bus::EventMeta;
use ordo_http::{Problem, Trace};
use std::sync::Arc;

/// The payment provider's webhooks. Signed with `Ordo-Signature: t={unix time},v1={hex
/// HMAC-SHA256 of "{t}.{body}"}` under the shared secret; handled once per event id.
/// Events: `charge.refunded` `{reference, amount?}`, `authorization.expired` `{reference}`.
#[utoipa::path(post, path = "/webhooks/payments", tag = "payments",
    params(("Ordo-Signature" = String, Header, description = "t=…,v1=…")),
    request_body(content = Object, description = "`{id, type, data: {reference, amount?}}`"),
    responses(
        (status = 200, description = "Handled (or seen before)"),
        (status = 401, description = "Bad, stale or missing signature", body = Problem),
        (status = 404, description = "Webhooks are not configured", body = Problem),
        (status = 422, description = "Not a webhook", body = Problem),
    ))]
pub async fn receive(
    State(payments): State<Arc<Payments>>,
    Trace(trace): Trace,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Problem> {
    let signature = headers
        .get("ordo-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let meta = EventMeta::from_trace(&trace);
    match payments.webhook(signature, &body, &meta).await? {
        WebhookOutcome::Applied | WebhookOutcome::Ignored => Ok(StatusCode::OK),
    }
}
