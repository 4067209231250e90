//! Domain -> contract, appended in the use case's transaction.

use crate::domain::{Order, Status};
use ordo_bus::{BusError, EventMeta, Outbox};
use ordo_contracts::orders::{
    CheckoutAbandoned, OrderAccepted, OrderCancelled, OrderCompleted, OrderLine, OrderPaid,
    OrderPaymentFailed, OrderPaymentRetried, OrderPickedUp, OrderPlaced, OrderReady, OrderRejected,
    OrderShipped,
};
use ordo_db::{Batch, Tx};
use ordo_kernel::Money;
use uuid::Uuid;

/// No order `order_id` will exist: the stock held for it goes back.
pub(crate) async fn checkout_abandoned(
    outbox: &Outbox,
    tx: &mut Tx,
    order_id: Uuid,
    meta: &EventMeta,
) -> Result<(), BusError> {
    outbox
        .append(
            tx,
            &order_id.to_string(),
            &CheckoutAbandoned { order_id },
            meta,
        )
        .await
        .map(|_| ())
}

/// An amount in the order's currency.
fn money(order: &Order, amount: i64) -> Money {
    Money {
        amount,
        currency: order.currency.clone(),
    }
}

fn lines(order: &Order) -> Vec<OrderLine> {
    order
        .lines
        .iter()
        .map(|l| OrderLine {
            product_id: l.product_id,
            name: l.name.clone(),
            quantity: l.quantity,
            unit_price: money(order, l.unit_price),
        })
        .collect()
}

pub(crate) fn order_placed(
    outbox: &Outbox,
    batch: &mut Batch,
    order: &Order,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = OrderPlaced {
        order_id: order.id,
        customer_id: order.customer_id,
        merchant_id: order.merchant_id,
        fulfilment: order.fulfilment.as_str().to_owned(),
        lines: lines(order),
        total: money(order, order.total),
        payment_method_id: order.payment_method_id,
        from_cart: order.from_cart,
    };
    outbox
        .stage(batch, &order.id.to_string(), &event, meta)
        .map(|_| ())
}

/// Announces that `order` (as it is before the move, with what the move's use case wrote
/// beside it) moved to `to`, for the statuses others follow.
pub(crate) fn transitioned(
    outbox: &Outbox,
    batch: &mut Batch,
    order: &Order,
    to: Status,
    cause: &str,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let (order_id, merchant_id) = (order.id, order.merchant_id);
    let subject = order_id.to_string();
    match to {
        Status::Cancelled => {
            let event = OrderCancelled {
                order_id,
                reason: cause.to_owned(),
            };
            outbox.stage(batch, &subject, &event, meta)?;
        }
        Status::Rejected => {
            let event = OrderRejected {
                order_id,
                merchant_id,
                reason: cause.to_owned(),
            };
            outbox.stage(batch, &subject, &event, meta)?;
        }
        Status::Accepted => {
            outbox.stage(
                batch,
                &subject,
                &OrderAccepted {
                    order_id,
                    merchant_id,
                    customer_id: order.customer_id,
                    fulfilment: order.fulfilment.as_str().to_owned(),
                    address: order.address.clone(),
                },
                meta,
            )?;
        }
        Status::Ready => {
            outbox.stage(
                batch,
                &subject,
                &OrderReady {
                    order_id,
                    merchant_id,
                },
                meta,
            )?;
        }
        Status::Completed => {
            outbox.stage(
                batch,
                &subject,
                &OrderCompleted {
                    order_id,
                    merchant_id,
                },
                meta,
            )?;
        }
        Status::PickedUp => {
            let event = OrderPickedUp {
                order_id,
                merchant_id,
            };
            outbox.stage(batch, &subject, &event, meta)?;
        }
        Status::Shipped => {
            if let Some(parcel) = &order.shipment {
                let event = OrderShipped {
                    order_id,
                    merchant_id,
                    customer_id: order.customer_id,
                    shipment_id: parcel.id,
                    carrier: parcel.carrier.clone(),
                    tracking_number: parcel.tracking_number.clone(),
                };
                outbox.stage(batch, &subject, &event, meta)?;
            }
        }
        Status::PaymentFailed => {
            if let (Some(reason), Some(retry_until)) =
                (&order.payment.failure, order.payment.retry_until)
            {
                let event = OrderPaymentFailed {
                    order_id,
                    customer_id: order.customer_id,
                    reason: reason.clone(),
                    retry_until,
                };
                outbox.stage(batch, &subject, &event, meta)?;
            }
        }
        // Only a declined order comes back to pending payment: tried with another card.
        Status::PendingPayment => {
            if let Some(payment_method_id) = order.payment_method_id {
                let event = OrderPaymentRetried {
                    order_id,
                    customer_id: order.customer_id,
                    payment_method_id,
                    total: money(order, order.total),
                    attempt: order.payment.attempts,
                };
                outbox.stage(batch, &subject, &event, meta)?;
            }
        }
        Status::Paid => {
            let event = OrderPaid {
                order_id,
                customer_id: order.customer_id,
                merchant_id,
                lines: lines(order),
                from_cart: order.from_cart,
            };
            outbox.stage(batch, &subject, &event, meta)?;
        }
    }
    Ok(())
}
