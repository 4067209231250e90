//! Publishes `cart.started` (`publish`); consumes `order.placed` to empty a cart that was
//! ordered (`consume`).

pub mod consume;
mod publish;

pub(crate) use publish::cart_started;
