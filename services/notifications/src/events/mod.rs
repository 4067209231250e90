//! Publishes nothing; consumes `order.placed`, `payment.failed` and `order.cancelled`.

pub mod consume;
