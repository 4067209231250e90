//! Both sides of the calls between services over HTTP that every service shares: the
//! answer of an internal route (what the in-process client said, as JSON or a problem),
//! and an order's timeline asked of a service in another process.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use ordo_contracts::ClientError;
use ordo_contracts::timeline::{OrderTimeline, SentEntry, TimelineEntry};
use ordo_http::Problem;
use ordo_remote::ServiceClient;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long a caller waits before trying an unavailable service again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What an internal route answers for the in-process client's `result`: the same outcome
/// the caller's client then gives its own caller.
///
/// # Errors
/// 422 for a request the service refused as invalid, 503 (with `Retry-After`) when it or a
/// dependency is down, 500 for a fault.
pub fn answer<T>(result: Result<T, ClientError>) -> Result<Json<T>, Problem> {
    result.map(Json).map_err(|error| match error {
        ClientError::Invalid(detail) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid request",
            detail,
        ),
        ClientError::Unavailable { detail, .. } => Problem::unavailable(detail, RETRY_AFTER),
        ClientError::Failed { service, detail } => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            format!("{service} failed: {detail}"),
        ),
    })
}

/// The internal route of a service's part of an order's timeline:
/// `GET /orders/{id}/timeline`.
pub fn timeline_route<T: OrderTimeline + 'static>(service: Arc<T>) -> axum::Router {
    axum::Router::new()
        .route("/orders/{id}/timeline", get(timeline::<T>))
        .with_state(service)
}

async fn timeline<T: OrderTimeline + 'static>(
    State(service): State<Arc<T>>,
    Path(order_id): Path<Uuid>,
) -> Result<Json<Vec<SentEntry>>, Problem> {
    let entries = service.timeline(order_id).await;
    answer(entries.map(|entries| entries.into_iter().map(SentEntry::from).collect()))
}

/// The order's timeline as the service behind `client` tells it.
///
/// # Errors
/// As the client's calls.
pub async fn timeline_of(
    client: &ServiceClient,
    order_id: Uuid,
) -> Result<Vec<TimelineEntry>, ClientError> {
    let entries: Vec<SentEntry> = client
        .get(&format!("/orders/{order_id}/timeline"), &[])
        .await?;
    Ok(entries
        .into_iter()
        .map(|entry| entry.told_by(client.callee()))
        .collect())
}
