//! Inventory consumes the end of every checkout: a payment authorised commits the order's
//! reservation (taking a hold that ran out again when it can) and publishes what became of
//! it, `reservation.committed` or `reservation.lost`; a failed payment, a cancellation, a
//! rejection or an abandoned checkout releases it.

pub mod consume;
