//! Inventory publishes nothing yet. It consumes the end of every checkout: a payment
//! authorised commits the order's reservation; a failed payment, a cancellation or a
//! rejection releases it.

pub mod consume;
