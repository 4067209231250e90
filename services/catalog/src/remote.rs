//! `CatalogClient` for services in other processes: the catalogue's internal routes
//! (`api::internal`) over HTTP.

use crate::api::internal::ProductIds;
use ordo_contracts::ClientFuture;
use ordo_contracts::catalog::{CatalogClient, MerchantSnapshot, ProductSnapshot};
use ordo_remote::{Retry, ServiceClient};
use std::sync::Arc;
use uuid::Uuid;

/// The catalogue in another process.
#[derive(Debug)]
pub struct RemoteCatalog(ServiceClient);

/// The client the catalogue provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn CatalogClient> {
    Arc::new(RemoteCatalog(service))
}

impl CatalogClient for RemoteCatalog {
    fn products<'a>(&'a self, ids: &'a [Uuid]) -> ClientFuture<'a, Vec<ProductSnapshot>> {
        Box::pin(async move {
            let body = ProductIds { ids: ids.to_vec() };
            self.0.post("/products", &body, Retry::Safe, None).await
        })
    }

    fn merchant(&self, id: Uuid) -> ClientFuture<'_, Option<MerchantSnapshot>> {
        Box::pin(async move { self.0.get(&format!("/merchants/{id}"), &[]).await })
    }

    fn find_merchants<'a>(&'a self, query: &'a str, limit: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async move {
            let query = [("q", query.to_owned()), ("limit", limit.to_string())];
            self.0.get("/merchants", &query).await
        })
    }
}
