//! `NotificationsClient` for services in other processes: notifications' internal routes
//! (`api::internal`) over HTTP.

use ordo_contracts::ClientFuture;
use ordo_contracts::notifications::NotificationsClient;
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_remote::ServiceClient;
use std::sync::Arc;
use uuid::Uuid;

/// Notifications in another process.
#[derive(Debug)]
pub struct RemoteNotifications(ServiceClient);

/// The client notifications provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn NotificationsClient> {
    Arc::new(RemoteNotifications(service))
}

impl NotificationsClient for RemoteNotifications {}

impl OrderTimeline for RemoteNotifications {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(ordo_kit::internal::timeline_of(&self.0, order_id))
    }
}
