//! Payments' internal routes (`/internal/v1/payments`), for services in other processes:
//! `PaymentsClient` over HTTP. `crate::remote` is their client.

use crate::app::Payments;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use ordo_contracts::payments::PaymentsClient;
use ordo_http::Problem;
use ordo_kit::internal::{answer, timeline_route};
use std::sync::Arc;
use uuid::Uuid;

pub fn router(payments: Arc<Payments>) -> axum::Router {
    axum::Router::new()
        .route("/customers/{id}/methods/{method}", get(owns_method))
        .with_state(payments.clone())
        .merge(timeline_route(payments))
}

async fn owns_method(
    State(payments): State<Arc<Payments>>,
    Path((customer_id, method_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<bool>, Problem> {
    answer(PaymentsClient::owns_method(&*payments, customer_id, method_id).await)
}
