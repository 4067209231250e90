//! Orders as other services call it in process (`ordo_contracts::orders`).

use super::Orders;
use crate::domain::Status;
use crate::store::orders;
use ordo_contracts::orders::{OrdersClient, Purchase};
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

impl OrdersClient for Orders {
    fn purchase(&self, order_id: Uuid) -> ClientFuture<'_, Option<Purchase>> {
        Box::pin(async move {
            let failed = |error: ordo_db::Error| {
                ClientError::failed(crate::NAME, error.is_unavailable(), error)
            };
            let order = orders::find(&self.db, order_id).await.map_err(failed)?;
            Ok(order.map(|order| Purchase {
                order_id: order.id,
                customer_id: order.customer_id,
                merchant_id: order.merchant_id,
                product_ids: order.lines.iter().map(|line| line.product_id).collect(),
                completed: order.status == Status::Completed,
            }))
        })
    }
}
