//! Domain -> contract, appended in the use case's transaction. Subjects are the order id.

use crate::domain::{Delivery, Shipment};
use ordo_bus::{BusError, EventMeta, Outbox};
use ordo_contracts::Event;
use ordo_contracts::delivery::{
    DeliveryAssigned, DeliveryCompleted, DeliveryOffered, DeliveryUnassigned, ShipmentCreated,
    ShipmentDelivered, ShipmentShipped,
};
use ordo_db::Tx;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Appends `event` about order `order_id` (its subject) to the outbox in `tx`.
async fn send<E: Event>(
    outbox: &Outbox,
    tx: &mut Tx,
    order_id: Uuid,
    event: &E,
    meta: &EventMeta,
) -> Result<(), BusError> {
    outbox
        .append(tx, &order_id.to_string(), event, meta)
        .await
        .map(|_| ())
}

pub(crate) async fn offered(
    outbox: &Outbox,
    tx: &mut Tx,
    delivery: &Delivery,
    courier_ids: &[Uuid],
    expires_at: OffsetDateTime,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = DeliveryOffered {
        delivery_id: delivery.id,
        order_id: delivery.order_id,
        merchant_id: delivery.merchant_id,
        merchant_cell: delivery.pickup_cell.clone(),
        courier_ids: courier_ids.to_vec(),
        expires_at: expires_at.format(&Rfc3339).unwrap_or_default(),
    };
    send(outbox, tx, delivery.order_id, &event, meta).await
}

pub(crate) async fn assigned(
    outbox: &Outbox,
    tx: &mut Tx,
    delivery: &Delivery,
    courier_id: Uuid,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = DeliveryAssigned {
        delivery_id: delivery.id,
        order_id: delivery.order_id,
        merchant_id: delivery.merchant_id,
        customer_id: delivery.customer_id,
        courier_id,
    };
    send(outbox, tx, delivery.order_id, &event, meta).await
}

pub(crate) async fn completed(
    outbox: &Outbox,
    tx: &mut Tx,
    delivery: &Delivery,
    courier_id: Uuid,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = DeliveryCompleted {
        delivery_id: delivery.id,
        order_id: delivery.order_id,
        merchant_id: delivery.merchant_id,
        customer_id: delivery.customer_id,
        courier_id,
    };
    send(outbox, tx, delivery.order_id, &event, meta).await
}

pub(crate) async fn unassigned(
    outbox: &Outbox,
    tx: &mut Tx,
    delivery: &Delivery,
    waited_secs: i64,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = DeliveryUnassigned {
        delivery_id: delivery.id,
        order_id: delivery.order_id,
        merchant_id: delivery.merchant_id,
        waited_secs,
    };
    send(outbox, tx, delivery.order_id, &event, meta).await
}

pub(crate) async fn shipment_created(
    outbox: &Outbox,
    tx: &mut Tx,
    parcel: &Shipment,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = ShipmentCreated {
        shipment_id: parcel.id,
        order_id: parcel.order_id,
        carrier: parcel.carrier.clone(),
        tracking_number: parcel.tracking_number.clone(),
    };
    send(outbox, tx, parcel.order_id, &event, meta).await
}

pub(crate) async fn shipment_shipped(
    outbox: &Outbox,
    tx: &mut Tx,
    parcel: &Shipment,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = ShipmentShipped {
        shipment_id: parcel.id,
        order_id: parcel.order_id,
        carrier: parcel.carrier.clone(),
        tracking_number: parcel.tracking_number.clone(),
    };
    send(outbox, tx, parcel.order_id, &event, meta).await
}

pub(crate) async fn shipment_delivered(
    outbox: &Outbox,
    tx: &mut Tx,
    parcel: &Shipment,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = ShipmentDelivered {
        shipment_id: parcel.id,
        order_id: parcel.order_id,
    };
    send(outbox, tx, parcel.order_id, &event, meta).await
}
