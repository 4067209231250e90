//! `OrdersClient` for services in other processes: the orders service's internal routes
//! (`api::internal`) over HTTP.

use ordo_contracts::ClientFuture;
use ordo_contracts::orders::{OrdersClient, Purchase};
use ordo_remote::ServiceClient;
use std::sync::Arc;
use uuid::Uuid;

/// The orders service in another process.
#[derive(Debug)]
pub struct RemoteOrders(ServiceClient);

/// The client the orders service provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn OrdersClient> {
    Arc::new(RemoteOrders(service))
}

impl OrdersClient for RemoteOrders {
    fn purchase(&self, order_id: Uuid) -> ClientFuture<'_, Option<Purchase>> {
        Box::pin(async move {
            let path = format!("/orders/{order_id}/purchase");
            self.0.get(&path, &[]).await
        })
    }
}
