//! The orders service's internal routes (`/internal/v1/orders`), for services in other
//! processes: `OrdersClient` over HTTP. `crate::remote` is their client.

use crate::app::Orders;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use ordo_contracts::orders::{OrdersClient, Purchase};
use ordo_http::Problem;
use ordo_kit::internal::answer;
use std::sync::Arc;
use uuid::Uuid;

pub fn router(orders: Arc<Orders>) -> axum::Router {
    axum::Router::new()
        .route("/orders/{id}/purchase", get(purchase))
        .with_state(orders)
}

async fn purchase(
    State(orders): State<Arc<Orders>>,
    Path(order_id): Path<Uuid>,
) -> Result<Json<Option<Purchase>>, Problem> {
    answer(OrdersClient::purchase(&*orders, order_id).await)
}
