//! Domain -> contract, appended in the use case's transaction.

use ordo_bus::{BusError, EventMeta, Outbox};
use ordo_contracts::cart::CartStarted;
use ordo_contracts::catalog::ProductSnapshot;
use ordo_db::Tx;
use uuid::Uuid;

/// The customer's cart was empty and now holds `first`.
pub(crate) async fn cart_started(
    outbox: &Outbox,
    tx: &mut Tx,
    customer_id: Uuid,
    first: &ProductSnapshot,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = CartStarted {
        customer_id,
        merchant_id: first.merchant_id,
        currency: first.price.currency.clone(),
    };
    outbox
        .append(tx, &customer_id.to_string(), &event, meta)
        .await
        .map(|_| ())
}
