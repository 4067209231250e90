//! Domain -> contract, appended in the use case's transaction.

use crate::domain::Order;
use ordo_bus::{BusError, EventMeta, Outbox};
use ordo_contracts::orders::{OrderCancelled, OrderLine, OrderPlaced};
use ordo_db::Tx;
use ordo_kernel::Money;
use uuid::Uuid;

pub(crate) async fn order_placed(
    outbox: &Outbox,
    tx: &mut Tx,
    order: &Order,
    from_cart: bool,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let money = |amount| Money {
        amount,
        currency: order.currency.clone(),
    };
    let event = OrderPlaced {
        order_id: order.id,
        customer_id: order.customer_id,
        merchant_id: order.merchant_id,
        fulfilment: order.fulfilment.as_str().to_owned(),
        lines: order
            .lines
            .iter()
            .map(|l| OrderLine {
                product_id: l.product_id,
                name: l.name.clone(),
                quantity: l.quantity,
                unit_price: money(l.unit_price),
            })
            .collect(),
        total: money(order.total),
        payment_method_id: order.payment_method_id,
        from_cart,
    };
    outbox
        .append(tx, &order.id.to_string(), &event, meta)
        .await
        .map(|_| ())
}

pub(crate) async fn order_cancelled(
    outbox: &Outbox,
    tx: &mut Tx,
    order_id: Uuid,
    reason: &str,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = OrderCancelled {
        order_id,
        reason: reason.to_owned(),
    };
    outbox
        .append(tx, &order_id.to_string(), &event, meta)
        .await
        .map(|_| ())
}
