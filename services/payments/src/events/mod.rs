//! Publishes `payment.authorized`, `payment.failed`, `payment.voided`; consumes
//! `order.placed` (authorise) and `order.cancelled` / `order.rejected` (void).

pub mod consume;
