//! Inventory as the orders service calls it in process (`ordo_contracts::inventory`).

use super::{AppError, Inventory};
use ordo_contracts::inventory::{InventoryClient, Reservation, ReservationLine};
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

impl InventoryClient for Inventory {
    fn reserve<'a>(
        &'a self,
        order_id: Uuid,
        lines: &'a [ReservationLine],
    ) -> ClientFuture<'a, Reservation> {
        Box::pin(async move {
            Inventory::reserve(self, order_id, lines)
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
