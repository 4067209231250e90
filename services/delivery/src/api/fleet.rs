//! The operators' view of the city: couriers at work and deliveries under way.

use super::couriers::CourierView;
use super::deliveries::StopView;
use crate::app::{Delivery, FleetOverview};
use crate::domain;
use axum::extract::State;
use ordo_http::{Authenticated, Json, Problem};
use ordo_kernel::Money;
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct FleetCourierView {
    id: Uuid,
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
                .map(|(id, status)| FleetCourierView {
                    id,
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
