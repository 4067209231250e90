//! A delivery's steps after assignment: picked up at the merchant (the order's event),
//! delivered by its courier, or ended with its order.

use super::{AppError, Delivery, DeliveryError, courier_only};
use crate::domain::{self, Trigger};
use crate::events::publish;
use crate::store;
use ordo_bus::EventMeta;
use ordo_db::Tx;
use ordo_kernel::{Caller, Page, PageRequest};
use uuid::Uuid;

impl Delivery {
    /// The caller's deliveries, newest first.
    ///
    /// # Errors
    /// `Forbidden` for anyone but a courier.
    pub async fn deliveries(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<domain::Delivery>, AppError> {
        courier_only(caller)?;
        let rows = store::deliveries_of(
            &self.db,
            caller.user_id,
            page.after.map(|c| c.0),
            page.fetch_limit(),
        )
        .await?;
        Ok(Page::from_rows(rows, page, |d| d.id))
    }

    /// The courier handed the order over.
    ///
    /// # Errors
    /// `NotFound` unless the caller is its courier; `IllegalTransition` (409) unless it was
    /// picked up.
    pub async fn delivered(
        &self,
        caller: &Caller,
        id: Uuid,
        meta: &EventMeta,
    ) -> Result<domain::Delivery, AppError> {
        courier_only(caller)?;
        let delivery = store::delivery_by_id(&self.db, id)
            .await?
            .filter(|d| d.courier_id == Some(caller.user_id))
            .ok_or(AppError::NotFound)?;
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        let Some(done) = self
            .step(&mut tx, &delivery, Trigger::Deliver, None, now, meta)
            .await?
        else {
            return Err(
                DeliveryError::IllegalTransition(delivery.status.as_str(), "delivered").into(),
            );
        };
        let event = publish::completed(&delivery, caller.user_id);
        publish::send(&self.outbox, &mut tx, delivery.order_id, &event, meta).await?;
        self.outbox.commit(tx).await?;
        self.followers.changed(delivery.order_id);
        self.fleet().await?.release(caller.user_id, now).await;
        Ok(done)
    }

    /// The merchant handed the order to its courier (the order's `order.picked_up`).
    ///
    /// # Errors
    /// The database failing.
    pub async fn picked_up(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        if let Some(delivery) = store::delivery_for_order(&mut *tx, order_id).await? {
            let now = ordo_kernel::time::now();
            self.step(tx, &delivery, Trigger::PickUp, None, now, meta)
                .await?;
        }
        Ok(())
    }

    /// The order ended: its delivery is cancelled, its offers withdrawn, its courier free.
    ///
    /// # Errors
    /// The database failing.
    pub async fn cancel(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let Some(delivery) = store::delivery_for_order(&mut *tx, order_id).await? else {
            return Ok(());
        };
        let now = ordo_kernel::time::now();
        if self
            .step(tx, &delivery, Trigger::Cancel, None, now, meta)
            .await?
            .is_some()
        {
            let trace = meta.traceparent.as_deref();
            store::withdraw_offers(&mut *tx, delivery.id, None, now, trace).await?;
            if let Some(courier) = delivery.courier_id {
                self.fleet().await?.release(courier, now).await;
            }
        }
        Ok(())
    }
}
