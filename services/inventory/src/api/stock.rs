use crate::app::{Inventory, StockLevel};
use axum::extract::State;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, Path, Problem, Trace};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    /// Counted on the shelf.
    on_hand: i64,
    /// Held for orders not yet paid.
    reserved: i64,
    /// What can still be ordered: on_hand - reserved.
    available: i64,
    /// The rows the stock is kept in, so that concurrent orders do not wait on each other.
    slots: i64,
}

impl From<StockLevel> for StockView {
    fn from(level: StockLevel) -> Self {
        StockView {
            on_hand: level.on_hand,
            reserved: level.reserved,
            available: level.available,
            slots: level.slots,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutStock {
    /// 0 to 1 000 000.
    #[schema(minimum = 0, maximum = 1000000)]
    on_hand: i64,
    /// 1 to 64: the rows to keep the stock in. A product that sells fast, ordered by many
    /// at once, takes several; unchanged when absent (1 for a product counted first).
    #[schema(minimum = 1, maximum = 64)]
    slots: Option<i64>,
}

/// A product's stock (its merchant's staff).
#[utoipa::path(get, path = "/products/{id}/stock", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    responses(
        (status = 200, description = "The stock", body = StockView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "No such product, or not the caller's merchant's", body = Problem),
    ))]
pub async fn get(
    State(inventory): State<Arc<Inventory>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<StockView>, Problem> {
    Ok(Json(inventory.stock(&caller, id).await?.into()))
}

/// Set what is on the shelf (its merchant's staff).
#[utoipa::path(put, path = "/products/{id}/stock", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    request_body = PutStock,
    responses(
        (status = 200, description = "The stock", body = StockView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "No such product, or not the caller's merchant's", body = Problem),
        (status = 409, description = "Below what is reserved", body = Problem),
        (status = 422, description = "Invalid level or number of slots", body = Problem),
    ))]
pub async fn put(
    State(inventory): State<Arc<Inventory>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
    Trace(trace): Trace,
    Json(body): Json<PutStock>,
) -> Result<Json<StockView>, Problem> {
    let meta = EventMeta::from_trace(&trace);
    Ok(Json(
        inventory
            .set_stock(&caller, id, body.on_hand, body.slots, &meta)
            .await?
            .into(),
    ))
}
