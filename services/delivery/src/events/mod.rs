//! Delivery follows orders: an accepted delivery order opens a delivery (`order.accepted`),
//! a hand-over marks it picked up (`order.picked_up`), a cancellation or rejection ends it.
//! It publishes `delivery.offered`, `delivery.assigned`, `delivery.completed` and
//! `delivery.unassigned`.

pub mod consume;
pub(crate) mod publish;
