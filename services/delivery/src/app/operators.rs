//! What operators do for a delivery nobody took: give it to a courier they choose, or offer
//! it again over a wider area, forgetting who let it pass before.

use super::{AppError, Delivery, DeliveryError, admin_only};
use crate::domain::{self, DeliveryStatus, Trigger};
use crate::store;
use ordo_bus::EventMeta;
use ordo_kernel::Caller;
use uuid::Uuid;

/// Each "offer again" looks this many times farther than the last, up to [`WIDEST_KM`].
const WIDEN_BY: f64 = 2.0;
const WIDEST_KM: f64 = 100.0;

/// A delivery offered again: as it now is, and how many couriers were asked.
#[derive(Debug)]
pub struct Redispatched {
    pub delivery: domain::Delivery,
    pub offered: usize,
}

/// Why a delivery can no longer be given or offered: it has a courier, or it ended.
fn not_waiting(delivery: &domain::Delivery) -> Result<(), AppError> {
    match delivery.status {
        DeliveryStatus::Searching | DeliveryStatus::Offered => Ok(()),
        DeliveryStatus::Assigned | DeliveryStatus::PickedUp => {
            Err(DeliveryError::Gone("the delivery has a courier already").into())
        }
        DeliveryStatus::Delivered | DeliveryStatus::Cancelled => {
            Err(DeliveryError::Gone("the delivery has ended").into())
        }
    }
}

impl Delivery {
    /// Gives a waiting delivery to an online, idle courier without asking them; their
    /// other offers and the delivery's are withdrawn.
    ///
    /// # Errors
    /// `Forbidden` for anyone but an administrator; `NotFound` for an unknown delivery;
    /// `Gone` (409) when it has a courier or ended, or the courier is offline or busy.
    pub async fn assign_by_operator(
        &self,
        caller: &Caller,
        id: Uuid,
        courier_id: Uuid,
        meta: &EventMeta,
    ) -> Result<domain::Delivery, AppError> {
        admin_only(caller)?;
        let delivery = store::delivery_by_id(&self.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        not_waiting(&delivery)?;
        let fleet = self.fleet().await?;
        if !fleet.get(courier_id).await?.is_some_and(|c| c.online) {
            return Err(DeliveryError::Gone("the courier is offline").into());
        }
        let now = ordo_kernel::time::now();
        if !fleet.claim(courier_id, now).await? {
            return Err(DeliveryError::Gone("the courier carries another delivery").into());
        }
        let taken: Result<_, AppError> = async {
            let mut tx = self.db.begin().await?;
            let delivery = store::delivery_by_id(&mut tx, id)
                .await?
                .ok_or(AppError::NotFound)?;
            not_waiting(&delivery)?;
            let assigned = self
                .assign(&mut tx, &delivery, courier_id, now, meta)
                .await?;
            // Their own offer for it, if any, is not answered: it is moot.
            store::withdraw_offers(&mut tx, id, None, now, meta.traceparent.as_deref()).await?;
            self.outbox.commit(tx).await?;
            Ok(assigned)
        }
        .await;
        if taken.is_err() {
            fleet.release(courier_id, now).await;
        }
        let assigned = taken?;
        self.followers.changed(assigned.order_id);
        self.withdraw_others(courier_id, None, now, meta).await;
        tracing::info!(delivery.id = %id, courier.id = %courier_id, operator.id = %caller.user_id, "delivery assigned by an operator");
        Ok(assigned)
    }

    /// Offers a waiting delivery again over twice the area it was offered in (up to
    /// 100 km): its open offers are withdrawn, everyone in the area may be asked however
    /// they answered before, and the escalation clock starts again.
    ///
    /// # Errors
    /// `Forbidden` for anyone but an administrator; `NotFound` for an unknown delivery;
    /// `Gone` (409) when it has a courier or ended.
    pub async fn redispatch(
        &self,
        caller: &Caller,
        id: Uuid,
        meta: &EventMeta,
    ) -> Result<Redispatched, AppError> {
        admin_only(caller)?;
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        let delivery = store::delivery_by_id(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        not_waiting(&delivery)?;
        let radius = (self.radius_of(&delivery) * WIDEN_BY).min(WIDEST_KM);
        let trace = meta.traceparent.as_deref();
        if !store::redispatch(&mut tx, id, radius, now, trace).await? {
            return Err(DeliveryError::Gone("the delivery has a courier already").into());
        }
        store::withdraw_offers(&mut tx, id, None, now, trace).await?;
        if delivery.status == DeliveryStatus::Offered {
            self.step(&mut tx, &delivery, Trigger::Lapse, None, now, meta)
                .await?;
        }
        let widened = store::delivery_by_id(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let offered = self.dispatch(&mut tx, &widened, now, meta).await?;
        let delivery = store::delivery_by_id(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.outbox.commit(tx).await?;
        self.followers.changed(delivery.order_id);
        tracing::info!(delivery.id = %id, radius_km = radius, offered, operator.id = %caller.user_id, "delivery offered again by an operator");
        Ok(Redispatched { delivery, offered })
    }
}
