//! Publishes nothing; consumes `order.placed` to empty a cart that was ordered.

pub mod consume;
