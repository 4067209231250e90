//! Publishes `order.placed` and `order.cancelled` (`ordo_contracts::orders`); consumes
//! `payment.authorized` (-> paid) and `payment.failed` (-> cancelled).

pub mod consume;
mod publish;

pub(crate) use publish::{order_cancelled, order_placed};
