//! Publishes `order.placed`, `order.accepted`, `order.rejected`, `order.ready`,
//! `order.completed`, `order.cancelled` (`ordo_contracts::orders`); consumes
//! `payment.authorized` (-> paid) and `payment.failed` (-> cancelled).

pub mod consume;
mod publish;

pub(crate) use publish::{checkout_abandoned, order_placed, transitioned};
