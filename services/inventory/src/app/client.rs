//! Inventory as the orders service calls it in process (`ordo_contracts::inventory`).

use super::{AppError, Inventory};
use ordo_bus::EventMeta;
use ordo_contracts::inventory::{InventoryClient, Reservation, ReservationLine};
use ordo_contracts::{ClientError, ClientFuture};
use ordo_kernel::trace::TraceContext;
use uuid::Uuid;

impl InventoryClient for Inventory {
    fn reserve<'a>(
        &'a self,
        order_id: Uuid,
        lines: &'a [ReservationLine],
        trace: Option<TraceContext>,
    ) -> ClientFuture<'a, Reservation> {
        Box::pin(async move {
            let meta = trace.map_or_else(EventMeta::default, |trace| EventMeta::from_trace(&trace));
            Inventory::reserve(self, order_id, lines, &meta)
                .await
                .map_err(|error| match error {
                    AppError::Invalid(violations) => ClientError::Invalid(violations.to_string()),
                    AppError::Unexpected(error) => ClientError::failed(
                        crate::NAME,
                        ordo_db::caused_by_unavailable(error.as_ref()),
                        format!("{error:#}"),
                    ),
                    other => ClientError::Failed {
                        service: crate::NAME,
                        detail: other.to_string(),
                    },
                })
        })
    }
}
