//! The cart's internal routes (`/internal/v1/cart`), for services in other processes:
//! `CartClient` over HTTP. `crate::remote` is their client.

use crate::app::Cart;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use ordo_contracts::cart::{CartClient, CartLine};
use ordo_http::Problem;
use ordo_kit::internal::answer;
use std::sync::Arc;
use uuid::Uuid;

pub fn router(cart: Arc<Cart>) -> axum::Router {
    axum::Router::new()
        .route("/customers/{id}/lines", get(lines))
        .with_state(cart)
}

async fn lines(
    State(cart): State<Arc<Cart>>,
    Path(customer_id): Path<Uuid>,
) -> Result<Json<Vec<CartLine>>, Problem> {
    answer(CartClient::lines(&*cart, customer_id).await)
}
