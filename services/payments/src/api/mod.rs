//! The payments service's HTTP interface.

mod error;
pub(crate) mod internal;
mod methods;
mod refunds;
mod webhooks;

use crate::app::Payments;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Payments>> {
    OpenApiRouter::new()
        .routes(routes!(methods::list, methods::add))
        .routes(routes!(methods::remove))
        .routes(routes!(refunds::refund))
        .routes(routes!(webhooks::receive))
}

/// Routes under `/api/v1`.
pub fn router(payments: Arc<Payments>) -> OpenApiRouter {
    routes().with_state(payments)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}
