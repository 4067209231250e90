//! The orders service's HTTP interface: orders and their steps (`orders`), following one
//! live (`track`), and the operators' counts, search and timelines (`admin`).

mod admin;
mod error;
mod orders;
mod track;

use crate::app::Orders;
use axum::Extension;
use ordo_http::Streams;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/api/v1`; the tracking stream counts against its user's `streams`.
pub fn router(orders: Arc<Orders>, streams: Arc<Streams>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(orders::place, orders::list))
        .routes(routes!(orders::get))
        .routes(routes!(orders::status))
        .routes(routes!(orders::history))
        .routes(routes!(track::track))
        .routes(routes!(orders::cancel))
        .routes(routes!(orders::retry_payment))
        .routes(routes!(orders::accept))
        .routes(routes!(orders::reject))
        .routes(routes!(orders::ready))
        .routes(routes!(orders::picked_up))
        .routes(routes!(orders::ship))
        .routes(routes!(orders::merchant_queue))
        .routes(routes!(admin::open))
        .routes(routes!(admin::find))
        .routes(routes!(admin::timeline))
        .layer(Extension(streams))
        .with_state(orders)
}
