//! `IdentityClient` for services in other processes: identity's internal routes
//! (`api::internal`) over HTTP.

use ordo_contracts::ClientFuture;
use ordo_contracts::identity::{Contact, IdentityClient};
use ordo_kernel::PostalAddress;
use ordo_remote::ServiceClient;
use std::sync::Arc;
use uuid::Uuid;

/// Identity in another process.
#[derive(Debug)]
pub struct RemoteIdentity(ServiceClient);

/// The client identity provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn IdentityClient> {
    Arc::new(RemoteIdentity(service))
}

impl IdentityClient for RemoteIdentity {
    fn contact(&self, user_id: Uuid) -> ClientFuture<'_, Option<Contact>> {
        Box::pin(async move { self.0.get(&format!("/users/{user_id}/contact"), &[]).await })
    }

    fn address(&self, user_id: Uuid, address_id: Uuid) -> ClientFuture<'_, Option<PostalAddress>> {
        Box::pin(async move {
            let path = format!("/users/{user_id}/addresses/{address_id}");
            self.0.get(&path, &[]).await
        })
    }

    fn administrators(&self) -> ClientFuture<'_, Vec<Uuid>> {
        Box::pin(async move { self.0.get("/administrators", &[]).await })
    }

    fn find_users<'a>(&'a self, query: &'a str, limit: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async move {
            let query = [("q", query.to_owned()), ("limit", limit.to_string())];
            self.0.get("/users", &query).await
        })
    }
}
