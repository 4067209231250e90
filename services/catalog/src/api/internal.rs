//! The catalogue's internal routes (`/internal/v1/catalog`), for services in other
//! processes: `CatalogClient` over HTTP. `crate::remote` is their client.

use crate::app::Catalog;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use ordo_contracts::catalog::{CatalogClient, MerchantSnapshot, ProductSnapshot};
use ordo_http::Problem;
use ordo_kit::internal::answer;
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

/// `{ids}` of `POST /products`: a read, sent as a body because the ids can be many.
#[derive(Debug, serde::Serialize, Deserialize)]
pub(crate) struct ProductIds {
    pub ids: Vec<Uuid>,
}

/// `?q=&limit=` of `GET /merchants`.
#[derive(Debug, Deserialize)]
pub(crate) struct Found {
    pub q: String,
    pub limit: usize,
}

pub fn router(catalog: Arc<Catalog>) -> axum::Router {
    axum::Router::new()
        .route("/products", post(products))
        .route("/merchants", get(find_merchants))
        .route("/merchants/{id}", get(merchant))
        .with_state(catalog)
}

async fn products(
    State(catalog): State<Arc<Catalog>>,
    Json(body): Json<ProductIds>,
) -> Result<Json<Vec<ProductSnapshot>>, Problem> {
    answer(CatalogClient::products(&*catalog, &body.ids).await)
}

async fn merchant(
    State(catalog): State<Arc<Catalog>>,
    Path(id): Path<Uuid>,
) -> Result<Json<Option<MerchantSnapshot>>, Problem> {
    answer(CatalogClient::merchant(&*catalog, id).await)
}

async fn find_merchants(
    State(catalog): State<Arc<Catalog>>,
    Query(found): Query<Found>,
) -> Result<Json<Vec<Uuid>>, Problem> {
    answer(CatalogClient::find_merchants(&*catalog, &found.q, found.limit).await)
}
