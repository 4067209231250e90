//! Inventory's part of an order's timeline (`ordo_contracts::timeline`): the stock held
//! for it, then committed, released, expired or returned, each in the trace that did it.

use super::Inventory;
use crate::domain::ReservationStatus;
use crate::store;
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

impl OrderTimeline for Inventory {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(async move {
            let steps = store::reservation_steps(&self.db, order_id)
                .await
                .map_err(|error| ClientError::failed(crate::NAME, error.is_unavailable(), error))?;
            let Some(steps) = steps else {
                return Ok(Vec::new());
            };
            let until = steps.expires_at.time();
            let mut entries = vec![TimelineEntry::new(
                crate::NAME,
                steps.created_at,
                "reservation_held",
                format!(
                    "{} unit{} held until {:02}:{:02} UTC",
                    steps.units,
                    if steps.units == 1 { "" } else { "s" },
                    until.hour(),
                    until.minute()
                ),
                steps.held_traceparent.as_deref(),
            )];
            let end = match steps.status {
                ReservationStatus::Held => None,
                ReservationStatus::Committed => Some("Stock committed: the order is paid"),
                ReservationStatus::Released => Some("Stock released: the order ended unpaid"),
                ReservationStatus::Expired => Some("The hold ran out before payment"),
                ReservationStatus::Returned => {
                    Some("Stock returned to the shelf: the paid order was cancelled")
                }
            };
            if let Some(summary) = end {
                entries.push(TimelineEntry::new(
                    crate::NAME,
                    steps.updated_at,
                    &format!("reservation_{}", steps.status.as_str()),
                    summary.to_owned(),
                    steps.moved_traceparent.as_deref(),
                ));
            }
            Ok(entries)
        })
    }
}
