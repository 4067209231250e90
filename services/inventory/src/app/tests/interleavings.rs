//! The interleavings of expiry, authorisation, a declined payment's window, cancellation,
//! abandonment and repeats that a checkout's reservation can meet, as a table: a paid order
//! never has more stock than there is, a declined order keeps its stock through its window,
//! and a reservation released because its order ended is never taken again.

use super::*;

/// What happens to a checkout after it reserved, one step at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The hold runs out: the sweeper passes after its deadline.
    Expire,
    /// The sweeper passes after a declined order's window closed.
    ExpireAfterWindow,
    /// Another order takes whatever is free.
    Compete,
    /// `payment.authorized` (again, when repeated).
    Authorize,
    /// `order.payment_failed`: declined, another card may be tried for twice the hold.
    Decline,
    /// `order.cancelled`.
    Cancel,
    /// `checkout.abandoned`: the order was never written.
    Abandon,
    /// The same checkout asks to reserve again: held only while its hold lasts.
    ReserveAgain(bool),
}

/// Steps, then the stock `(on_hand, reserved, available)` of the one unit on the shelf,
/// and what inventory published about the order.
type Interleaving = (&'static [Step], (i64, i64, i64), &'static [&'static str]);

const COMMITTED: &str = "reservation.committed";
const LOST: &str = "reservation.lost";

/// Every order of expiry, authorisation, cancellation and repeats that matters.
const INTERLEAVINGS: &[Interleaving] = {
    use Step::*;
    &[
        (&[Authorize], (0, 0, 0), &[COMMITTED]),
        (&[Authorize, Authorize], (0, 0, 0), &[COMMITTED]),
        (&[Authorize, Expire, Authorize], (0, 0, 0), &[COMMITTED]),
        (&[Expire, Authorize], (0, 0, 0), &[COMMITTED]),
        (&[Expire, Authorize, Authorize], (0, 0, 0), &[COMMITTED]),
        (&[Expire, Compete, Authorize], (1, 1, 0), &[LOST]),
        (&[Expire, Compete, Authorize, Cancel], (1, 1, 0), &[LOST]),
        (
            &[Expire, Compete, Authorize, Authorize],
            (1, 1, 0),
            &[LOST, LOST],
        ),
        (&[Expire, Authorize, Cancel], (1, 0, 1), &[COMMITTED]),
        (&[Expire, Cancel, Authorize], (1, 0, 1), &[]),
        (&[Expire, Cancel, Compete, Authorize], (1, 1, 0), &[]),
        (&[Cancel, Authorize], (1, 0, 1), &[]),
        (&[Cancel, Expire, Authorize], (1, 0, 1), &[]),
        (&[Authorize, Cancel], (1, 0, 1), &[COMMITTED]),
        (&[Authorize, Cancel, Authorize], (1, 0, 1), &[COMMITTED]),
        (&[Authorize, Cancel, Cancel], (1, 0, 1), &[COMMITTED]),
        (&[Decline], (1, 1, 0), &[]),
        (&[Decline, Expire], (1, 1, 0), &[]),
        (&[Decline, Expire, Authorize], (0, 0, 0), &[COMMITTED]),
        (&[Decline, ExpireAfterWindow], (1, 0, 1), &[]),
        (&[Decline, Cancel], (1, 0, 1), &[]),
        (&[Decline, Cancel, Authorize], (1, 0, 1), &[]),
        (&[Expire, Decline, Authorize], (0, 0, 0), &[COMMITTED]),
        (&[Expire, Decline, Compete, Authorize], (1, 1, 0), &[LOST]),
        (&[Abandon], (1, 0, 1), &[]),
        (&[Abandon, ReserveAgain(false)], (1, 0, 1), &[]),
        (&[ReserveAgain(true), Abandon, Authorize], (1, 0, 1), &[]),
        (
            &[Expire, Abandon, ReserveAgain(false), Authorize],
            (1, 0, 1),
            &[],
        ),
    ]
};

async fn every_interleaving_keeps_paid_orders_within_the_stock(kind: &str) {
    let Some(s) = setup(kind).await else { return };
    // The unit in one row, and in slot 0 of three.
    let cases = [1, 3]
        .into_iter()
        .flat_map(|slots| INTERLEAVINGS.iter().map(move |case| (slots, case)));
    for (slots, (steps, stock, published)) in cases {
        let product = Uuid::now_v7();
        s.inventory
            .set_stock(&s.staff, product, 1, Some(slots), &EventMeta::default())
            .await
            .unwrap();
        let order_id = Uuid::now_v7();
        let held = s
            .inventory
            .reserve(order_id, &[line(product, 1)], &EventMeta::default())
            .await;
        assert_eq!(held.unwrap(), Reservation::Held);
        for step in *steps {
            match step {
                Step::Expire => {
                    let later = ordo_kernel::time::now() + HOLD + Duration::from_secs(1);
                    s.inventory.expire_holds(later).await.unwrap();
                }
                Step::ExpireAfterWindow => {
                    let later = ordo_kernel::time::now() + 3 * HOLD;
                    s.inventory.expire_holds(later).await.unwrap();
                }
                Step::Compete => {
                    let free = s.level(product).await.2;
                    if free > 0 {
                        let lines = [line(product, free)];
                        let other = s
                            .inventory
                            .reserve(Uuid::now_v7(), &lines, &EventMeta::default())
                            .await;
                        assert_eq!(other.unwrap(), Reservation::Held);
                    }
                }
                Step::Authorize => {
                    let authorized = PaymentAuthorized {
                        order_id,
                        payment_id: Uuid::now_v7(),
                        amount: Money {
                            amount: 100,
                            currency: "EUR".into(),
                        },
                    };
                    s.deliver(order_id, &authorized).await;
                }
                Step::Decline => s.deliver(order_id, &declined(order_id)).await,
                Step::Cancel => {
                    let cancelled = OrderCancelled {
                        order_id,
                        reason: "customer".into(),
                    };
                    s.deliver(order_id, &cancelled).await;
                }
                Step::Abandon => s.deliver(order_id, &CheckoutAbandoned { order_id }).await,
                Step::ReserveAgain(held) => {
                    let again = s
                        .inventory
                        .reserve(order_id, &[line(product, 1)], &EventMeta::default())
                        .await;
                    let expected = if *held {
                        Reservation::Held
                    } else {
                        Reservation::GivenUp
                    };
                    assert_eq!(again.unwrap(), expected, "{steps:?} in {slots} slots");
                }
            }
        }
        assert_eq!(
            s.level(product).await,
            *stock,
            "stock after {steps:?} in {slots} slots"
        );
        assert_eq!(
            s.published(order_id).await,
            *published,
            "events after {steps:?} in {slots} slots"
        );
    }
    s.finish().await;
}

async fn an_abandoned_checkout_that_never_reserved_holds_nothing_later(kind: &str) {
    let Some(s) = setup(kind).await else { return };
    let product = Uuid::now_v7();
    s.inventory
        .set_stock(&s.staff, product, 3, None, &EventMeta::default())
        .await
        .unwrap();
    let order_id = Uuid::now_v7();
    // The checkout was given up while its reservation was still on the way.
    s.deliver(order_id, &CheckoutAbandoned { order_id }).await;
    let late = s
        .inventory
        .reserve(order_id, &[line(product, 2)], &EventMeta::default())
        .await;
    assert_eq!(late.unwrap(), Reservation::GivenUp);
    assert_eq!(s.level(product).await, (3, 0, 3));
    s.finish().await;
}

both!(every_interleaving_keeps_paid_orders_within_the_stock);
both!(an_abandoned_checkout_that_never_reserved_holds_nothing_later);
