//! `DeliveryClient` for services in other processes: delivery's internal routes
//! (`api::internal`) over HTTP.

use ordo_contracts::ClientFuture;
use ordo_contracts::delivery::{DeliveryClient, Tracking};
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_kit::Wakeups;
use ordo_remote::ServiceClient;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

/// Delivery in another process, and the wake-ups it echoes of the orders it carries.
#[derive(Debug)]
pub struct RemoteDelivery {
    service: ServiceClient,
    followers: Arc<Wakeups>,
}

/// The client delivery provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn DeliveryClient> {
    let followers = Arc::new(Wakeups::default());
    followers.echo_through(crate::NAME, service.echoes());
    Arc::new(RemoteDelivery { service, followers })
}

impl DeliveryClient for RemoteDelivery {
    fn tracking(&self, order_id: Uuid) -> ClientFuture<'_, Option<Tracking>> {
        Box::pin(async move {
            let path = format!("/orders/{order_id}/tracking");
            self.service.get(&path, &[]).await
        })
    }

    /// Woken by what delivery echoes of the order: its steps, and its courier's positions
    /// while a stream follows it.
    fn changes(&self, order_id: Uuid) -> Arc<Notify> {
        self.followers.of(order_id)
    }
}

impl OrderTimeline for RemoteDelivery {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(ordo_kit::internal::timeline_of(&self.service, order_id))
    }
}
