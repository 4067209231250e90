//! The orders service's HTTP interface: orders and their steps (`orders`), following one
//! live (`track`), and the operators' counts, search and timelines (`admin`).

mod admin;
mod error;
pub(crate) mod internal;
mod orders;
mod track;

use crate::app::Orders;
use axum::Extension;
use ordo_http::Streams;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Orders>> {
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
}

/// Routes under `/api/v1`.
pub fn router(orders: Arc<Orders>, streams: Arc<Streams>) -> OpenApiRouter {
    routes().layer(Extension(streams)).with_state(orders)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
