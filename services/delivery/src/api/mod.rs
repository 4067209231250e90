//! Delivery's HTTP interface: the courier's side (`couriers`), a delivery's steps
//! (`deliveries`), parcels (`shipments`) and the operators' view (`fleet`).

mod couriers;
mod deliveries;
mod error;
mod fleet;
pub(crate) mod internal;
mod shipments;

use crate::app::Delivery;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Delivery>> {
    OpenApiRouter::new()
        .routes(routes!(couriers::current, couriers::availability))
        .routes(routes!(couriers::location))
        .routes(routes!(couriers::offers))
        .routes(routes!(couriers::accept))
        .routes(routes!(couriers::decline))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::delivered))
        .routes(routes!(shipments::get))
        .routes(routes!(shipments::event))
        .routes(routes!(fleet::overview))
        .routes(routes!(fleet::assign))
        .routes(routes!(fleet::redispatch))
}

/// Routes under `/api/v1`.
pub fn router(delivery: Arc<Delivery>) -> OpenApiRouter {
    routes().with_state(delivery)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
