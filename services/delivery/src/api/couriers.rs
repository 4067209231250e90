//! A courier's availability, position and offers.

use super::deliveries::{DeliveryView, StopView};
use crate::app::{CourierStatus, Delivery};
use crate::domain::{self, Offer};
use axum::extract::State;
use axum::http::StatusCode;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, Path, Problem, Trace};
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    /// Online: offers may come.
    online: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourierView {
    online: bool,
    /// Carrying a delivery.
    busy: bool,
    lat: Option<f64>,
    lon: Option<f64>,
    #[serde(with = "time::serde::rfc3339::option")]
    located_at: Option<OffsetDateTime>,
}

impl From<CourierStatus> for CourierView {
    fn from(c: CourierStatus) -> Self {
        CourierView {
            online: c.online,
            busy: c.busy,
            lat: c.fix.map(|f| f.lat),
            lon: c.fix.map(|f| f.lon),
            located_at: c.fix.map(|f| f.at),
        }
    }
}

/// Whether the caller is online, and where they were last (couriers).
#[utoipa::path(get, path = "/courier/availability", tag = "delivery", security(("bearer" = [])),
    responses(
        (status = 200, description = "The courier's availability", body = CourierView),
        (status = 403, description = "Not a courier", body = Problem),
    ))]
pub async fn current(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<CourierView>, Problem> {
    Ok(Json(delivery.availability(&caller).await?.into()))
}

/// Go online or offline (couriers).
#[utoipa::path(put, path = "/courier/availability", tag = "delivery", security(("bearer" = [])),
    request_body = Availability,
    responses(
        (status = 200, description = "The courier's availability", body = CourierView),
        (status = 403, description = "Not a courier", body = Problem),
        (status = 422, description = "Invalid body", body = Problem),
    ))]
pub async fn availability(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Json(body): Json<Availability>,
) -> Result<Json<CourierView>, Problem> {
    Ok(Json(
        delivery
            .set_availability(&caller, body.online)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
}

/// Report where the courier is (couriers, while online; frequent and cheap).
#[utoipa::path(put, path = "/courier/location", tag = "delivery", security(("bearer" = [])),
    request_body = Location,
    responses(
        (status = 204, description = "Taken"),
        (status = 403, description = "Not a courier", body = Problem),
        (status = 409, description = "The courier is offline", body = Problem),
        (status = 422, description = "Not a coordinate, or farther from the last position than a vehicle travels", body = Problem),
        (status = 429, description = "Reported too often", body = Problem),
    ))]
pub async fn location(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Json(body): Json<Location>,
) -> Result<StatusCode, Problem> {
    delivery.locate(&caller, body.lat, body.lon, trace).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An offer as its courier sees it: where to pick up and how far the trip is, not who the
/// customer is or where they live.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    id: Uuid,
    delivery_id: Uuid,
    order_id: Uuid,
    pickup: StopView,
    /// From the courier to the merchant when the offer was made.
    distance_km: f64,
    /// From the merchant to the customer.
    trip_km: f64,
    /// What the courier earns for it.
    payout: Money,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

impl OfferView {
    fn new(offer: Offer, delivery: &domain::Delivery) -> Self {
        OfferView {
            id: offer.id,
            delivery_id: delivery.id,
            order_id: delivery.order_id,
            pickup: StopView::from(&delivery.pickup),
            distance_km: round_metres(offer.distance_km),
            trip_km: round_metres(delivery.distance_km()),
            payout: delivery.payout.clone(),
            expires_at: offer.expires_at,
        }
    }
}

fn round_metres(km: f64) -> f64 {
    (km * 1000.0).round() / 1000.0
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    items: Vec<OfferView>,
    /// Always null: every open offer fits on one page.
    next_cursor: Option<String>,
}

/// The caller's open offers, soonest to expire first (couriers).
#[utoipa::path(get, path = "/courier/offers", tag = "delivery", security(("bearer" = [])),
    responses(
        (status = 200, description = "Open offers", body = OfferList),
        (status = 403, description = "Not a courier", body = Problem),
    ))]
pub async fn offers(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<OfferList>, Problem> {
    let items = delivery
        .offers(&caller)
        .await?
        .into_iter()
        .map(|(offer, d)| OfferView::new(offer, &d))
        .collect();
    Ok(Json(OfferList {
        items,
        next_cursor: None,
    }))
}

/// Take the delivery offered (couriers): the first acceptance wins.
#[utoipa::path(post, path = "/courier/offers/{id}/accept", tag = "delivery", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer id")),
    responses(
        (status = 200, description = "The delivery, now the caller's", body = DeliveryView),
        (status = 403, description = "Not a courier", body = Problem),
        (status = 404, description = "Not the caller's offer", body = Problem),
        (status = 409, description = "Expired, answered, withdrawn, taken by another courier, or the caller carries a delivery", body = Problem),
    ))]
pub async fn accept(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<DeliveryView>, Problem> {
    let taken = delivery
        .accept(&caller, id, &EventMeta::from_trace(&trace))
        .await?;
    Ok(Json(DeliveryView::for_courier(&taken)))
}

/// Turn the offer down (couriers): the next couriers are asked.
#[utoipa::path(post, path = "/courier/offers/{id}/decline", tag = "delivery", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer id")),
    responses(
        (status = 204, description = "Declined"),
        (status = 403, description = "Not a courier", body = Problem),
        (status = 404, description = "Not the caller's offer", body = Problem),
        (status = 409, description = "No longer open", body = Problem),
    ))]
pub async fn decline(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    delivery
        .decline(&caller, id, &EventMeta::from_trace(&trace))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
