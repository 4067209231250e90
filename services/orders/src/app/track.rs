//! Following an order live: its transitions, and for a delivery order where its courier is.

use super::{AppError, Orders};
use crate::domain::HistoryEntry;
use crate::store::orders;
use ordo_contracts::delivery::Tracking;
use uuid::Uuid;

impl Orders {
    /// The order's transitions after `after` (all of them when `None`), oldest first. The
    /// caller's access is checked when the stream starts (`order`).
    ///
    /// # Errors
    /// The database failing.
    pub async fn transitions_after(
        &self,
        id: Uuid,
        after: Option<Uuid>,
    ) -> Result<Vec<HistoryEntry>, AppError> {
        let mut entries = orders::history(self.db.reader(), id).await?;
        if let Some(after) = after {
            entries.retain(|entry| entry.id > after);
        }
        Ok(entries)
    }

    /// Where the order's delivery is; `None` for an order without one.
    ///
    /// # Errors
    /// Delivery failing.
    pub async fn tracking(&self, id: Uuid) -> Result<Option<Tracking>, AppError> {
        Ok(self.clients.delivery.tracking(id).await?)
    }
}
