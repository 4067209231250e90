//! Domain -> contract: the events delivery publishes, made from its records, and the one way
//! they go out — appended in the use case's transaction, the order id as their subject.

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
pub(crate) async fn send<E: Event>(
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

pub(crate) fn offered(
    delivery: &Delivery,
    courier_ids: &[Uuid],
    expires_at: OffsetDateTime,
) -> DeliveryOffered {
    DeliveryOffered {
        delivery_id: delivery.id,
        order_id: delivery.order_id,
        merchant_id: delivery.merchant_id,
        merchant_cell: delivery.pickup_cell.clone(),
        courier_ids: courier_ids.to_vec(),
        expires_at: expires_at.format(&Rfc3339).unwrap_or_default(),
    }
}

pub(crate) fn assigned(delivery: &Delivery, courier_id: Uuid) -> DeliveryAssigned {
    DeliveryAssigned {
        delivery_id: delivery.id,
        order_id: delivery.order_id,
        merchant_id: delivery.merchant_id,
        customer_id: delivery.customer_id,
        courier_id,
    }
}

pub(crate) fn completed(delivery: &Delivery, courier_id: Uuid) -> DeliveryCompleted {
    DeliveryCompleted {
        delivery_id: delivery.id,
        order_id: delivery.order_id,
        merchant_id: delivery.merchant_id,
        customer_id: delivery.customer_id,
        courier_id,
    }
}

pub(crate) fn unassigned(delivery: &Delivery, waited_secs: i64) -> DeliveryUnassigned {
    DeliveryUnassigned {
        delivery_id: delivery.id,
        order_id: delivery.order_id,
        merchant_id: delivery.merchant_id,
        waited_secs,
    }
}

pub(crate) fn shipment_created(parcel: &Shipment) -> ShipmentCreated {
    ShipmentCreated {
        shipment_id: parcel.id,
        order_id: parcel.order_id,
        carrier: parcel.carrier.clone(),
        tracking_number: parcel.tracking_number.clone(),
    }
}

pub(crate) fn shipment_shipped(parcel: &Shipment) -> ShipmentShipped {
    ShipmentShipped {
        shipment_id: parcel.id,
        order_id: parcel.order_id,
        carrier: parcel.carrier.clone(),
        tracking_number: parcel.tracking_number.clone(),
    }
}

pub(crate) fn shipment_delivered(parcel: &Shipment) -> ShipmentDelivered {
    ShipmentDelivered {
        shipment_id: parcel.id,
        order_id: parcel.order_id,
    }
}
