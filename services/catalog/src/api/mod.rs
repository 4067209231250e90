//! The catalogue's HTTP interface: handlers translate HTTP to use cases and back.

mod error;
mod images;
pub(crate) mod internal;
mod merchants;
mod products;

use crate::app::Catalog;
use crate::domain::picture::MAX_UPLOAD_BYTES;
use axum::extract::DefaultBodyLimit;
use ordo_http::Problem;
use ordo_kernel::PageRequest;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, before their state.
fn routes() -> OpenApiRouter<Arc<Catalog>> {
    OpenApiRouter::new()
        .routes(routes!(merchants::create, merchants::list))
        .routes(routes!(merchants::get, merchants::patch))
        .routes(routes!(merchants::staffed))
        .routes(routes!(products::create, products::list))
        .routes(routes!(products::get, products::patch, products::delete))
        .routes(routes!(products::categories))
        .routes(routes!(images::image))
        .routes(routes!(images::thumbnail))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(images::put_product_image))
                .routes(routes!(images::put_merchant_image))
                // Pictures are larger than the bodies other routes take.
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
}

/// Routes under `/api/v1`; reads carry an `ETag` and, read without a token, may be kept
/// by shared caches (a CDN, the gateway) for a short while.
pub fn router(catalog: Arc<Catalog>) -> OpenApiRouter {
    routes()
        .layer(axum::middleware::from_fn(ordo_http::caching::tagged))
        .with_state(catalog)
}

/// Where the routes are, for a gateway to route by without building the service.
pub fn paths() -> ordo_kit::Paths {
    ordo_kit::Paths::of(routes())
}

fn page(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, Problem> {
    ordo_http::page_request(limit, cursor)
}
