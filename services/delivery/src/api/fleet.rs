//! The operators' view of the city (couriers at work and deliveries under way), and what
//! they do for a delivery nobody took.

use super::couriers::CourierView;
use super::deliveries::StopView;
use crate::app::{Delivery, FleetOverview, Redispatched};
use crate::domain;
use axum::extract::State;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, Path, Problem, Trace};
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct FleetCourierView {
    id: Uuid,
    /// As the courier gave it; unset when identity cannot say.
    name: Option<String>,
    #[serde(flatten)]
    courier: CourierView,
}

/// A delivery as operators see it: both stops and its courier.
#[derive(Debug, Serialize, ToSchema)]
pub struct FleetDeliveryView {
    id: Uuid,
    order_id: Uuid,
    /// `searching`, `offered`, `assigned` or `picked_up`.
    status: &'static str,
    courier_id: Option<Uuid>,
    pickup: StopView,
    drop_off: StopView,
    /// What its courier earns.
    payout: Money,
    /// Looking for a courier since.
    #[serde(with = "time::serde::rfc3339")]
    searching_since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    assigned_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    picked_up_at: Option<OffsetDateTime>,
    /// How far from the merchant couriers are asked, once an operator widened it; unset:
    /// the configured radius.
    search_radius_km: Option<f64>,
}

impl From<&domain::Delivery> for FleetDeliveryView {
    fn from(d: &domain::Delivery) -> Self {
        FleetDeliveryView {
            id: d.id,
            order_id: d.order_id,
            status: d.status.as_str(),
            courier_id: d.courier_id,
            pickup: StopView::from(&d.pickup),
            drop_off: StopView::from(&d.drop_off),
            payout: d.payout.clone(),
            searching_since: d.searching_since,
            assigned_at: d.assigned_at,
            picked_up_at: d.picked_up_at,
            search_radius_km: d.search_radius_km,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FleetView {
    /// Online or carrying a delivery, by id.
    couriers: Vec<FleetCourierView>,
    /// Not yet delivered or cancelled, newest first; at most 500.
    deliveries: Vec<FleetDeliveryView>,
}

impl From<FleetOverview> for FleetView {
    fn from(overview: FleetOverview) -> Self {
        FleetView {
            couriers: overview
                .couriers
                .into_iter()
                .map(|(id, name, status)| FleetCourierView {
                    id,
                    name,
                    courier: status.into(),
                })
                .collect(),
            deliveries: overview.deliveries.iter().map(Into::into).collect(),
        }
    }
}

/// The couriers at work with their positions, and the deliveries under way (administrators).
#[utoipa::path(get, path = "/admin/fleet", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "The fleet now", body = FleetView),
        (status = 403, description = "Not an administrator", body = Problem),
    ))]
pub async fn overview(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<FleetView>, Problem> {
    Ok(Json(delivery.overview(&caller).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// An online courier with no delivery.
    courier_id: Uuid,
}

/// Give a waiting delivery to an online courier at once (administrators).
#[utoipa::path(post, path = "/admin/deliveries/{id}/assign", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Delivery id")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "The delivery, assigned", body = FleetDeliveryView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such delivery", body = Problem),
        (status = 409, description = "The delivery has a courier or ended, or the courier is offline or busy", body = Problem),
        (status = 422, description = "Invalid body", body = Problem),
    ))]
pub async fn assign(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
    Json(body): Json<AssignBody>,
) -> Result<Json<FleetDeliveryView>, Problem> {
    let assigned = delivery
        .assign_by_operator(&caller, id, body.courier_id, &EventMeta::from_trace(&trace))
        .await?;
    Ok(Json((&assigned).into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedispatchView {
    delivery: FleetDeliveryView,
    /// How many couriers were asked now; 0 when nobody is in the wider area yet (it is
    /// offered as soon as someone is).
    offered: usize,
}

impl From<Redispatched> for RedispatchView {
    fn from(done: Redispatched) -> Self {
        RedispatchView {
            delivery: (&done.delivery).into(),
            offered: done.offered,
        }
    }
}

/// Offer a waiting delivery again over twice the area, to everyone there (administrators).
#[utoipa::path(post, path = "/admin/deliveries/{id}/redispatch", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Delivery id")),
    responses(
        (status = 200, description = "The delivery, offered again", body = RedispatchView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such delivery", body = Problem),
        (status = 409, description = "The delivery has a courier or ended", body = Problem),
    ))]
pub async fn redispatch(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<RedispatchView>, Problem> {
    let done = delivery
        .redispatch(&caller, id, &EventMeta::from_trace(&trace))
        .await?;
    Ok(Json(done.into()))
}
