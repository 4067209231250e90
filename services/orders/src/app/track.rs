//! Following an order live: its transitions, and for a delivery order where its courier is.

use super::{AppError, Orders};
use crate::domain::HistoryEntry;
use crate::store::orders;
use ordo_contracts::delivery::Tracking;
use ordo_kernel::Violations;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

/// What wakes a stream following an order (in this process): a transition of the order
/// committed, or a change to its delivery (steps, hands, the courier's positions). Held
/// while the stream is open; interest is enabled before each look.
#[derive(Debug)]
pub struct Wakes {
    pub order: Arc<Notify>,
    pub delivery: Arc<Notify>,
}

/// An order's transitions after a point, and whether the order has reached its end.
#[derive(Debug)]
pub struct Transitions {
    /// Oldest first.
    pub entries: Vec<HistoryEntry>,
    /// The order is completed, cancelled or rejected: nothing follows.
    pub ended: bool,
}

impl Orders {
    /// The order's transitions after `after` (all of them when `None`). The caller's access
    /// is checked when the stream starts (`order`).
    ///
    /// # Errors
    /// `Invalid` when `after` is not one of the order's transitions; the database failing.
    pub async fn transitions_after(
        &self,
        id: Uuid,
        after: Option<Uuid>,
    ) -> Result<Transitions, AppError> {
        let mut entries = orders::history(&self.db, id).await?;
        let ended = entries.last().is_some_and(|entry| entry.to.is_final());
        if let Some(after) = after {
            let Some(seen) = entries.iter().position(|entry| entry.id == after) else {
                let mut v = Violations::new();
                v.add(
                    "Last-Event-ID",
                    "must be the id of a transition of the order",
                );
                return Err(AppError::Invalid(v));
            };
            entries.drain(..=seen);
        }
        Ok(Transitions { entries, ended })
    }

    /// What wakes a stream following the order.
    #[must_use]
    pub fn wakes(&self, id: Uuid) -> Wakes {
        Wakes {
            order: self.followers.of(id),
            delivery: self.clients.delivery.changes(id),
        }
    }

    /// Streams following an order in other processes of orders are woken by the moves made
    /// here, and this process's by theirs.
    pub fn echo_streams(&self, echoes: &ordo_bus::Echoes) {
        self.followers.echo_through(crate::NAME, echoes);
    }

    /// A transaction made here has committed a transition of the order.
    pub(crate) fn moved(&self, id: Uuid) {
        self.followers.wake(id);
    }

    /// The consumer's `event` moved the order, in its transaction.
    pub(crate) fn moving(&self, event: Uuid, id: Uuid) {
        self.followers.touching(event, &[id]);
    }

    /// What the consumers call after each commit, with the events they handled: the
    /// streams following the orders they moved are woken.
    pub(crate) fn moves_committed(&self) -> impl Fn(&[Uuid]) + Send + Sync + 'static {
        let followers = self.followers.clone();
        move |events| followers.committed(events)
    }

    /// Where the order's delivery is; `None` for an order without one.
    ///
    /// # Errors
    /// Delivery failing.
    pub async fn tracking(&self, id: Uuid) -> Result<Option<Tracking>, AppError> {
        Ok(self.clients.delivery.tracking(id).await?)
    }
}
