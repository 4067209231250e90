//! `DeliveryClient` for services in other processes: delivery's internal routes
//! (`api::internal`) over HTTP.

use ordo_contracts::ClientFuture;
use ordo_contracts::delivery::{DeliveryClient, Tracking};
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_remote::ServiceClient;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

/// Delivery in another process.
#[derive(Debug)]
pub struct RemoteDelivery(ServiceClient);

/// The client delivery provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn DeliveryClient> {
    Arc::new(RemoteDelivery(service))
}

impl DeliveryClient for RemoteDelivery {
    fn tracking(&self, order_id: Uuid) -> ClientFuture<'_, Option<Tracking>> {
        Box::pin(async move {
            let path = format!("/orders/{order_id}/tracking");
            self.0.get(&path, &[]).await
        })
    }

    /// Never notified: changes made in another process do not reach this one, so a
    /// follower here learns of them when it asks again on its own schedule.
    fn changes(&self, _order_id: Uuid) -> Arc<Notify> {
        Arc::new(Notify::new())
    }
}

impl OrderTimeline for RemoteDelivery {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(ordo_kit::internal::timeline_of(&self.0, order_id))
    }
}
