//! Parcels: tracking for the people of the order, and the carrier's signed events.

use crate::app::{Delivery, ScanOutcome};
use crate::domain::{Scan, Shipment};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, Path, Problem, Trace};
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanView {
    /// `in_transit` or `delivered`.
    #[serde(rename = "type")]
    kind: &'static str,
    location: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    id: Uuid,
    order_id: Uuid,
    carrier: String,
    tracking_number: String,
    /// `pending_shipment`, `shipped` or `delivered`.
    status: &'static str,
    /// As people read it: Pending Shipment, Shipped, Delivered.
    label: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    shipped_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    delivered_at: Option<OffsetDateTime>,
    /// The carrier's events, oldest first.
    events: Vec<ScanView>,
}

impl ShipmentView {
    fn new(parcel: Shipment, scans: Vec<Scan>) -> Self {
        ShipmentView {
            id: parcel.id,
            order_id: parcel.order_id,
            carrier: parcel.carrier,
            tracking_number: parcel.tracking_number,
            status: parcel.status.as_str(),
            label: parcel.status.label(),
            created_at: parcel.created_at,
            shipped_at: parcel.shipped_at,
            delivered_at: parcel.delivered_at,
            events: scans
                .into_iter()
                .map(|scan| ScanView {
                    kind: scan.event.as_str(),
                    location: scan.location,
                    at: scan.received_at,
                })
                .collect(),
        }
    }
}

/// Track a parcel (the order's customer, its merchant's staff, admins).
#[utoipa::path(get, path = "/shipments/{id}", tag = "delivery", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shipment id")),
    responses(
        (status = 200, description = "The parcel and its carrier events", body = ShipmentView),
        (status = 404, description = "No such parcel, or not the caller's", body = Problem),
    ))]
pub async fn get(
    State(delivery): State<Arc<Delivery>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<ShipmentView>, Problem> {
    let (parcel, scans) = delivery.shipment(&caller, id).await?;
    Ok(Json(ShipmentView::new(parcel, scans)))
}

/// A parcel carrier's event. Signed with `Ordo-Signature: t={unix time},v1={hex
/// HMAC-SHA256 of "{t}.{body}"}` under the shared secret, within five minutes; it names its
/// parcel (`tracking_number`), so that a captured event cannot be replayed to another;
/// applied once per parcel and event id.
#[utoipa::path(post, path = "/shipments/{id}/events", tag = "delivery",
    params(
        ("id" = Uuid, Path, description = "Shipment id"),
        ("Ordo-Signature" = String, Header, description = "t=…,v1=…"),
    ),
    request_body(content = Object, description = "`{id, tracking_number, type: in_transit | delivered, location?}`: `tracking_number` is the parcel's"),
    responses(
        (status = 200, description = "Applied (or seen before)"),
        (status = 401, description = "Bad, stale or missing signature", body = Problem),
        (status = 404, description = "No such parcel, or carrier events are not configured", body = Problem),
        (status = 422, description = "Not a carrier event, or one for another parcel", body = Problem),
    ))]
pub async fn event(
    State(delivery): State<Arc<Delivery>>,
    Path(id): Path<Uuid>,
    Trace(trace): Trace,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Problem> {
    let signature = headers
        .get("ordo-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let meta = EventMeta::from_trace(&trace);
    match delivery.carrier_event(id, signature, &body, &meta).await? {
        ScanOutcome::Recorded | ScanOutcome::Replayed => Ok(StatusCode::OK),
    }
}
