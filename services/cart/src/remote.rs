//! `CartClient` for services in other processes: the cart's internal routes
//! (`api::internal`) over HTTP.

use ordo_contracts::ClientFuture;
use ordo_contracts::cart::{CartClient, CartLine};
use ordo_remote::ServiceClient;
use std::sync::Arc;
use uuid::Uuid;

/// The cart in another process.
#[derive(Debug)]
pub struct RemoteCart(ServiceClient);

/// The client the cart provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn CartClient> {
    Arc::new(RemoteCart(service))
}

impl CartClient for RemoteCart {
    fn lines(&self, customer_id: Uuid) -> ClientFuture<'_, Vec<CartLine>> {
        Box::pin(async move {
            let path = format!("/customers/{customer_id}/lines");
            self.0.get(&path, &[]).await
        })
    }
}
