//! The gateway: one router for the whole API, its OpenAPI document, the operational
//! endpoints, and the standard layers (authentication, rate limits, …) in front of all.

use crate::config::HttpConfig;
use crate::dead_letters;
use crate::ops;
use axum::Router;
use axum::http::HeaderValue;
use ordo_bus::DeadLetters;
use ordo_http::Verifier;
use ordo_http::layers::{self, LayerSettings};
use ordo_http::ratelimit::RateLimits;
use std::sync::Arc;
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
/// that one cannot have a route the other lacks: the services' `api` under `/api/v1` with
/// the dead letters, their `root` routes and the operational `ops` ones.
pub fn routes(
    api: OpenApiRouter,
    root: OpenApiRouter,
    ops: OpenApiRouter,
    dead_letters: DeadLetters,
) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api.merge(dead_letters::router(dead_letters)))
        .merge(root)
        .merge(ops)
        .split_for_parts()
}

/// The document of every service's routes, as a gateway in front of their processes serves
/// them: each service's `api` under `/api/v1`, its `root` at the root.
pub fn document(services: Vec<ordo_kit::Paths>) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    for paths in services {
        document = document.nest("/api/v1", paths.api);
        document.merge(paths.root);
    }
    document
}

/// Every operation's document says the errors the layers in front of it may answer, all as
/// `application/problem+json`: 401 (a bad token, on any route), 414, 429, 431, 503; 400,
/// 413, 415 and 422 where it takes a body; 422 where it takes a query; 404 where its path
/// names a resource. The routes' own error answers get the problem media type too.
fn describe_problems(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                ordo_http::problem::CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for (path, item) in &mut document.paths.paths {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                if let (true, utoipa::openapi::RefOr::T(response)) =
                    (status.starts_with('4') || status.starts_with('5'), response)
                    && let Some(json) = response.content.shift_remove("application/json")
                {
                    response
                        .content
                        .insert(ordo_http::problem::CONTENT_TYPE.to_owned(), json);
                }
            }
            never_null(operation.parameters.iter_mut().flatten());
            let has_body = operation.request_body.is_some();
            let has_query = operation.parameters.as_ref().is_some_and(|parameters| {
                parameters
                    .iter()
                    .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
            });
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description).into());
            };
            add("401", "The token is missing, invalid or expired");
            add("414", "The request target is too long");
            add("429", "Over the rate limit; wait Retry-After seconds");
            add("431", "The request's header fields are too large");
            add(
                "503",
                "A dependency is down or the request took too long; retry after Retry-After seconds",
            );
            if has_body {
                add("400", "The body is not JSON");
                add("413", "The body is too large");
                add("415", "The body is not application/json");
            }
            if has_body || has_query {
                add("422", "Invalid fields, each named");
            }
            if path.contains('{') {
                add("404", "No such resource, or not the caller's");
            }
        }
    }
}

/// A parameter (path, query, header) is text or absent, never JSON `null`, which the
/// document would otherwise allow for an optional header.
fn never_null<'a>(parameters: impl Iterator<Item = &'a mut utoipa::openapi::path::Parameter>) {
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    for parameter in parameters {
        if let Some(utoipa::openapi::RefOr::T(Schema::Object(schema))) = &mut parameter.schema
            && let SchemaType::Array(types) = &schema.schema_type
        {
            let mut types: Vec<Type> = types
                .iter()
                .filter(|t| **t != Type::Null)
                .cloned()
                .collect();
            schema.schema_type = match types.len() {
                1 => SchemaType::Type(types.remove(0)),
                _ => SchemaType::from_iter(types),
            };
        }
    }
}

/// The served router: `routes` and their document, the document's own route, and the
/// layer stack that `http` configures.
pub fn router(
    (router, mut document): (Router, utoipa::openapi::OpenApi),
    http: &HttpConfig,
    verifier: Arc<Verifier>,
    limits: Arc<RateLimits>,
) -> Router {
    ops::describe_openapi_route(&mut document);
    describe_problems(&mut document);
    let router = router.route(ops::OPENAPI_PATH, ops::openapi_route(&document));
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
        hsts: http.https(),
        trusted_proxies: http.trusted_proxies.clone(),
    };
    layers::apply(router, &settings, verifier, limits)
}
