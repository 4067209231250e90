//! `PaymentsClient` for services in other processes: payments' internal routes
//! (`api::internal`) over HTTP.

use ordo_contracts::ClientFuture;
use ordo_contracts::payments::PaymentsClient;
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_remote::ServiceClient;
use std::sync::Arc;
use uuid::Uuid;

/// Payments in another process.
#[derive(Debug)]
pub struct RemotePayments(ServiceClient);

/// The client payments provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn PaymentsClient> {
    Arc::new(RemotePayments(service))
}

impl PaymentsClient for RemotePayments {
    fn owns_method(&self, customer_id: Uuid, method_id: Uuid) -> ClientFuture<'_, bool> {
        Box::pin(async move {
            let path = format!("/customers/{customer_id}/methods/{method_id}");
            self.0.get(&path, &[]).await
        })
    }
}

impl OrderTimeline for RemotePayments {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(ordo_kit::internal::timeline_of(&self.0, order_id))
    }
}
