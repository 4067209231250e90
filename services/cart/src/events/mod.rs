//! Publishes `cart.started` (`publish`); consumes `order.paid` to take out of the cart what
//! an order paid for took from it (`consume`).

pub mod consume;
mod publish;

pub(crate) use publish::cart_started;
