//! Publishes nothing; consumes `order.placed`, `payment.failed`, `order.cancelled`,
//! `order.rejected` and `payment.refunded`.

pub mod consume;
