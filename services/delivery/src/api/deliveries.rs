//! A courier's deliveries.

use crate::app::Delivery;
use crate::domain::{self, Stop};
use axum::extract::State;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, PageQuery, Path, Problem, Query, Trace};
use ordo_kernel::Money;
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct StopView {
    name: String,
    address: String,
    lat: f64,
    lon: f64,
}

impl From<&Stop> for StopView {
    fn from(stop: &Stop) -> Self {
        StopView {
            name: stop.name.clone(),
            address: stop.address.clone(),
            lat: stop.lat,
            lon: stop.lon,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    id: Uuid,
    order_id: Uuid,
    /// `searching`, `offered`, `assigned`, `picked_up`, `delivered` or `cancelled`.
    status: &'static str,
    pickup: StopView,
    /// The customer: shown once the delivery is the courier's.
    drop_off: Option<StopView>,
    /// What the courier earns for it.
    payout: Money,
    #[serde(with = "time::serde::rfc3339::option")]
    assigned_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    picked_up_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    delivered_at: Option<OffsetDateTime>,
}

impl DeliveryView {
    /// The delivery as its courier sees it.
    pub fn for_courier(d: &domain::Delivery) -> Self {
        DeliveryView {
            id: d.id,
            order_id: d.order_id,
            status: d.status.as_str(),
            pickup: StopView::from(&d.pickup),
            drop_off: d.status.is_assigned().then(|| StopView::from(&d.drop_off)),
            payout: d.payout.clone(),
            assigned_at: d.assigned_at,
            picked_up_at: d.picked_up_at,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    items: Vec<DeliveryView>,
    next_cursor: Option<String>,
}

/// The caller's deliveries, newest first (couriers).
#[utoipa::path(get, path = "/courier/deliveries", tag = "delivery", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 403, description = "Not a courier", body = Problem),
        (status = 422, description = "Invalid limit or cursor", body = Problem),
    ))]
pub async fn list(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Query(query): Query<PageQuery>,
) -> Result<Json<DeliveryPage>, Problem> {
    let page = query.page()?;
    let page = delivery.deliveries(&caller, page).await?;
    Ok(Json(DeliveryPage {
        items: page.items.iter().map(DeliveryView::for_courier).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Mark the delivery delivered (its courier): the order completes.
#[utoipa::path(post, path = "/deliveries/{id}/delivered", tag = "delivery", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryView),
        (status = 403, description = "Not a courier", body = Problem),
        (status = 404, description = "Not the caller's delivery", body = Problem),
        (status = 409, description = "Not picked up yet, or delivered already", body = Problem),
    ))]
pub async fn delivered(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<DeliveryView>, Problem> {
    let done = delivery
        .delivered(&caller, id, &EventMeta::from_trace(&trace))
        .await?;
    Ok(Json(DeliveryView::for_courier(&done)))
}
