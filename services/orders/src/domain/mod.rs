//! The orders service's rules: the status table, what a valid checkout is, how an order is
//! priced. No I/O.

mod checkout;
mod order;
mod search;
mod status;

pub use checkout::{Checkout, Fulfilment, Item, PricedLine, price};
pub use order::{HistoryEntry, Order, PaymentState, Shipment, payment_failure};
pub use search::{IdQuery, MAX_QUERY, OrderSearch};
pub use status::{Actor, Status, Trigger, next};
