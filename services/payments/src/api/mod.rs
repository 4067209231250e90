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

/// Routes under `/api/v1`.
pub fn router(payments: Arc<Payments>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(methods::list, methods::add))
        .routes(routes!(methods::remove))
        .routes(routes!(refunds::refund))
        .routes(routes!(webhooks::receive))
        .with_state(payments)
}
