//! A courier's offers: seen only by the courier they were made to; the first to accept a
//! delivery takes it, every later answer is 409.

use super::{AppError, Delivery, DeliveryError, courier_only};
use crate::domain::{self, DeliveryStatus, Offer, OfferStatus, Trigger};
use crate::store;
use ordo_bus::EventMeta;
use ordo_kernel::Caller;
use time::OffsetDateTime;
use uuid::Uuid;

impl Delivery {
    /// The caller's open offers, soonest to expire first, with their deliveries.
    ///
    /// # Errors
    /// `Forbidden` for anyone but a courier.
    pub async fn offers(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(Offer, domain::Delivery)>, AppError> {
        courier_only(caller)?;
        let now = ordo_kernel::time::now();
        Ok(store::open_offers_of(&self.db, caller.user_id, now).await?)
    }

    /// The offer, if it is the caller's; `NotFound` otherwise, so that nobody learns of
    /// another courier's offers.
    async fn own_offer(&self, caller: &Caller, id: Uuid) -> Result<Offer, AppError> {
        courier_only(caller)?;
        store::offer_by_id(&self.db, id)
            .await?
            .filter(|offer| offer.courier_id == caller.user_id)
            .ok_or(AppError::NotFound)
    }

    /// Takes the delivery the offer is for.
    ///
    /// # Errors
    /// `NotFound` for someone else's offer; `Gone` (409) when it expired, was answered or
    /// withdrawn, the delivery was taken, or the caller carries another delivery.
    pub async fn accept(
        &self,
        caller: &Caller,
        id: Uuid,
        meta: &EventMeta,
    ) -> Result<domain::Delivery, AppError> {
        let offer = self.own_offer(caller, id).await?;
        let now = ordo_kernel::time::now();
        if offer.status != OfferStatus::Open || offer.expires_at <= now {
            return Err(DeliveryError::Gone("the offer is no longer open").into());
        }
        let fleet = self.fleet().await?;
        if !fleet.claim(caller.user_id, now).await? {
            return Err(DeliveryError::Gone("finish the delivery you carry first").into());
        }
        let taken: Result<_, AppError> = async {
            let mut tx = self.db.begin().await?;
            let delivery = store::delivery_by_id(&mut tx, offer.delivery_id)
                .await?
                .ok_or(AppError::NotFound)?;
            // The delivery first, then its offers, as every writer does: two couriers
            // accepting at once queue on the delivery instead of deadlocking on the offers.
            let assigned = self
                .assign(&mut tx, &delivery, caller.user_id, now, meta)
                .await?;
            let trace = meta.traceparent.as_deref();
            let answered =
                store::answer_offer(&mut tx, offer.id, OfferStatus::Accepted, now, trace);
            if !answered.await? {
                return Err(DeliveryError::Gone("the offer is no longer open").into());
            }
            self.outbox.commit(tx).await?;
            Ok(assigned)
        }
        .await;
        if taken.is_err() {
            // Taking it failed: the courier is free again.
            fleet.release(caller.user_id, now).await;
        }
        let assigned = taken?;
        answered(OfferStatus::Accepted, 1);
        self.followers.changed(assigned.order_id);
        self.withdraw_others(caller.user_id, Some(offer.id), now, meta)
            .await;
        Ok(assigned)
    }

    /// A courier who took a delivery is not waited for elsewhere: its other offers pass on
    /// now rather than when they expire (the sweep asks the next couriers). Apart from the
    /// accepting transaction, which locks only its own delivery's offers, so two couriers
    /// accepting at once cannot deadlock; were it lost, the offers would simply expire.
    pub(super) async fn withdraw_others(
        &self,
        courier_id: Uuid,
        taken: Option<Uuid>,
        now: OffsetDateTime,
        meta: &EventMeta,
    ) {
        let withdrawn = async {
            let mut tx = self.db.begin().await?;
            let trace = meta.traceparent.as_deref();
            store::withdraw_offers_to(&mut tx, courier_id, taken, now, trace).await?;
            tx.commit().await
        };
        if let Err(error) = withdrawn.await {
            tracing::warn!(courier.id = %courier_id, %error, "cannot withdraw a busy courier's other offers");
        }
    }

    /// Turns the offer down; when it was the delivery's last open one, the next couriers
    /// are asked at once, in the same trace.
    ///
    /// # Errors
    /// `NotFound` for someone else's offer; `Gone` (409) when it is no longer open.
    pub async fn decline(
        &self,
        caller: &Caller,
        id: Uuid,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let offer = self.own_offer(caller, id).await?;
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        let trace = meta.traceparent.as_deref();
        if !store::answer_offer(&mut tx, offer.id, OfferStatus::Declined, now, trace).await? {
            return Err(DeliveryError::Gone("the offer is no longer open").into());
        }
        let delivery = store::delivery_by_id(&mut tx, offer.delivery_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if delivery.status == DeliveryStatus::Offered
            && store::open_offer_count(&mut tx, delivery.id).await? == 0
        {
            self.step(&mut tx, &delivery, Trigger::Lapse, None, now, meta)
                .await?;
            self.dispatch(&mut tx, &delivery, now, meta).await?;
        }
        self.outbox.commit(tx).await?;
        answered(OfferStatus::Declined, 1);
        self.followers.changed(delivery.order_id);
        Ok(())
    }
}

/// Makes the offer counters exist at 0, so that their rates read 0 before any offer ends.
pub(super) fn count_offers_from_zero() {
    for outcome in [
        OfferStatus::Accepted,
        OfferStatus::Declined,
        OfferStatus::Expired,
    ] {
        answered(outcome, 0);
    }
}

/// Counts offers that ended `outcome` (`delivery_offers_total{outcome}`), once committed: how
/// many couriers let offers expire is what the alert on unanswered offers watches.
pub(super) fn answered(outcome: OfferStatus, n: usize) {
    metrics::counter!("delivery_offers_total", "outcome" => outcome.as_str())
        .increment(u64::try_from(n).unwrap_or(u64::MAX));
}
