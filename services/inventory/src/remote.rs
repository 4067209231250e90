//! `InventoryClient` for services in other processes: inventory's internal routes
//! (`api::internal`) over HTTP.

use crate::api::internal::Reserve;
use ordo_contracts::ClientFuture;
use ordo_contracts::inventory::{InventoryClient, Reservation, ReservationLine};
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_kernel::trace::TraceContext;
use ordo_remote::{Retry, ServiceClient};
use std::sync::Arc;
use uuid::Uuid;

/// Inventory in another process.
#[derive(Debug)]
pub struct RemoteInventory(ServiceClient);

/// The client inventory provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn InventoryClient> {
    Arc::new(RemoteInventory(service))
}

impl InventoryClient for RemoteInventory {
    fn reserve<'a>(
        &'a self,
        order_id: Uuid,
        lines: &'a [ReservationLine],
        trace: Option<TraceContext>,
    ) -> ClientFuture<'a, Reservation> {
        Box::pin(async move {
            let body = Reserve {
                order_id,
                lines: lines.to_vec(),
            };
            // Idempotent by the order's id: asked again, it holds nothing more.
            self.0
                .post("/reservations", &body, Retry::Safe, trace)
                .await
        })
    }
}

impl OrderTimeline for RemoteInventory {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(ordo_kit::internal::timeline_of(&self.0, order_id))
    }
}
