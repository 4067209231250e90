//! The gateway: one router for the whole API, its OpenAPI document, the operational
//! endpoints, and the standard layers (authentication, rate limits, …) in front of all.

use crate::dead_letters;
use crate::ops;
use crate::platform::Platform;
use axum::Router;
use axum::http::HeaderValue;
use ordo_http::layers::{self, LayerSettings};
use std::time::Duration;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ordo",
        description = "Real-time order processing: customers, merchants, couriers and operators.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every route of the platform and the document that describes them, built together so
/// that one cannot have a route the other lacks.
pub fn routes(platform: &Platform) -> (Router, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .merge(ordo_identity::router(platform.identity.clone()))
        .merge(ordo_catalog::router(platform.catalog.clone()))
        .merge(ordo_cart::router(platform.cart.clone()))
        .merge(ordo_inventory::router(platform.inventory.clone()))
        .merge(ordo_orders::router(platform.orders.clone()))
        .merge(ordo_payments::router(platform.payments.clone()))
        .merge(ordo_notifications::router(platform.notifications.clone()))
        .merge(dead_letters::router(platform.dead_letters.clone()));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .merge(ordo_identity::well_known_router(platform.identity.clone()))
        .merge(ops::router(platform))
        .split_for_parts()
}

/// The served router: routes, the OpenAPI document and the layer stack.
pub fn router(platform: &Platform) -> Router {
    let (router, mut document) = routes(platform);
    ops::describe_openapi_route(&mut document);
    let router = router.route(ops::OPENAPI_PATH, ops::openapi_route(&document));
    let http = &platform.config.http;
    let settings = LayerSettings {
        body_limit_bytes: http.body_limit_bytes,
        max_uri_bytes: http.max_uri_bytes,
        max_header_bytes: http.max_header_bytes,
        request_timeout: Duration::from_secs(http.request_timeout_secs),
        cors_origins: http
            .cors_origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect(),
        hsts: http.tls,
    };
    layers::apply(
        router,
        &settings,
        platform.verifier.clone(),
        platform.limits.clone(),
    )
}
