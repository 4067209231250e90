//! Moving an order through the status table, recording who and why, announcing it.

use super::{AppError, Orders};
use crate::domain::{Actor, HistoryEntry, Status, Trigger, next};
use crate::events;
use crate::store::orders;
use ordo_bus::EventMeta;
use ordo_db::Tx;
use uuid::Uuid;

/// The trace id of the request or event that moves an order, for its history.
pub(crate) fn trace_id(meta: &EventMeta) -> Option<String> {
    meta.traceparent
        .as_deref()
        .and_then(ordo_kernel::trace::TraceContext::parse)
        .map(|trace| trace.trace_id_hex())
}

/// Who moves the order and why.
pub(crate) struct Move<'a> {
    pub trigger: Trigger,
    pub actor: Actor,
    pub actor_id: Option<Uuid>,
    pub cause: &'a str,
}

impl Orders {
    /// Applies `change` inside `tx` if the table allows it from the order's current status.
    /// Returns the new status, or `None` when the order is absent or the move not allowed
    /// (a late or repeated event): then nothing is written.
    pub(crate) async fn apply(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        change: &Move<'_>,
        meta: &EventMeta,
    ) -> Result<Option<Status>, AppError> {
        let Some(order) = orders::find(&mut *tx, order_id).await? else {
            return Ok(None);
        };
        let Some(to) = next(order.status, change.trigger) else {
            tracing::info!(order.id = %order_id, from = order.status.as_str(), trigger = ?change.trigger, "transition not allowed; nothing changed");
            return Ok(None);
        };
        let now = ordo_kernel::time::now();
        if !orders::transition(tx, order_id, order.status, to, now).await? {
            return Ok(None);
        }
        // The history entry and the event in one round trip on PostgreSQL.
        let mut batch = tx.batch();
        orders::record(
            &mut batch,
            &HistoryEntry {
                id: ordo_kernel::new_id(),
                order_id,
                from: Some(order.status),
                to,
                actor: change.actor.as_str().into(),
                actor_id: change.actor_id,
                cause: change.cause.into(),
                at: now,
                trace_id: trace_id(meta),
            },
        );
        events::transitioned(&self.outbox, &mut batch, &order, to, change.cause, meta)?;
        tx.run(batch).await?;
        Ok(Some(to))
    }

    /// Applies `change` to each of `ids` in a transaction of its own, for a sweep, waking
    /// their streams; how many moved (one that moved meanwhile is passed over).
    pub(crate) async fn move_each(
        &self,
        ids: Vec<Uuid>,
        change: &Move<'_>,
    ) -> Result<usize, AppError> {
        let mut moved = 0;
        for id in ids {
            let mut tx = self.db.begin().await?;
            if self
                .apply(&mut tx, id, change, &EventMeta::job())
                .await?
                .is_some()
            {
                moved += 1;
            }
            self.outbox.commit(tx).await?;
            self.moved(id);
        }
        Ok(moved)
    }

    /// Records the courier who took a delivery order (delivery's `delivery.assigned`): the
    /// order becomes theirs to see, and the merchant may hand it over.
    ///
    /// # Errors
    /// The database failing.
    pub(crate) async fn courier_assigned(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        courier_id: Uuid,
    ) -> Result<(), AppError> {
        orders::set_courier(tx, order_id, courier_id).await?;
        Ok(())
    }
}
