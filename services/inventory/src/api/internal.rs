//! Inventory's internal routes (`/internal/v1/inventory`), for services in other processes:
//! `InventoryClient` over HTTP. `crate::remote` is their client.

use crate::app::Inventory;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use ordo_contracts::inventory::{InventoryClient, Reservation, ReservationLine};
use ordo_http::Problem;
use ordo_kernel::trace::TraceContext;
use ordo_kit::internal::{answer, timeline_route};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// The body of `POST /reservations`; the checkout's trace comes as `traceparent`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Reserve {
    pub order_id: Uuid,
    pub lines: Vec<ReservationLine>,
}

pub fn router(inventory: Arc<Inventory>) -> axum::Router {
    axum::Router::new()
        .route("/reservations", post(reserve))
        .with_state(inventory.clone())
        .merge(timeline_route(inventory))
}

async fn reserve(
    State(inventory): State<Arc<Inventory>>,
    headers: HeaderMap,
    Json(body): Json<Reserve>,
) -> Result<Json<Reservation>, Problem> {
    let trace = headers
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(TraceContext::parse);
    answer(InventoryClient::reserve(&*inventory, body.order_id, &body.lines, trace).await)
}
