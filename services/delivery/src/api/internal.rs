//! Delivery's internal routes (`/internal/v1/delivery`), for services in other processes:
//! `DeliveryClient` over HTTP. `crate::remote` is their client.

use crate::app::Delivery;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use ordo_contracts::delivery::{DeliveryClient, Tracking};
use ordo_http::Problem;
use ordo_kit::internal::{answer, timeline_route};
use std::sync::Arc;
use uuid::Uuid;

pub fn router(delivery: Arc<Delivery>) -> axum::Router {
    axum::Router::new()
        .route("/orders/{id}/tracking", get(tracking))
        .with_state(delivery.clone())
        .merge(timeline_route(delivery))
}

async fn tracking(
    State(delivery): State<Arc<Delivery>>,
    Path(order_id): Path<Uuid>,
) -> Result<Json<Option<Tracking>>, Problem> {
    answer(DeliveryClient::tracking(&*delivery, order_id).await)
}
