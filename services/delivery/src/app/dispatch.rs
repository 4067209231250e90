//! Finding a courier: a delivery opens when its merchant accepts the order, is offered to
//! the nearest idle couriers (or given to the best one in `auto` mode), passes on as offers
//! expire or are declined, and is escalated when nobody takes it in time.

use super::fleet::cell_at;
use super::{AppError, Delivery, DeliveryError};
use crate::config::DispatchMode;
use crate::domain::{self, Candidate, DeliveryStatus, Offer, OfferStatus, Stop, Trigger};
use crate::events::publish;
use crate::store;
use ordo_bus::EventMeta;
use ordo_contracts::orders::OrderAccepted;
use ordo_db::Tx;
use time::OffsetDateTime;
use uuid::Uuid;

/// Deliveries looked at per sweep.
const SWEEP_BATCH: i64 = 500;

impl Delivery {
    /// Opens the delivery of an accepted delivery order and looks for a courier, in the
    /// consumer's transaction. Orders for pickup or shipping are not delivery's.
    ///
    /// # Errors
    /// The catalogue or identity failing (retried), an order without an address.
    pub async fn open(
        &self,
        tx: &mut Tx,
        accepted: &OrderAccepted,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        if accepted.fulfilment != "delivery" {
            return Ok(());
        }
        let address = accepted
            .address
            .as_ref()
            .ok_or(DeliveryError::NoAddress(accepted.order_id))?;
        let merchant = self
            .catalog
            .merchant(accepted.merchant_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("merchant {} is not known", accepted.merchant_id))?;
        let customer = self
            .identity
            .contact(accepted.customer_id)
            .await?
            .map_or_else(|| "Customer".to_owned(), |c| c.name);
        let pickup_cell = cell_at(merchant.lat, merchant.lon, self.config.resolution())
            .map(|cell| cell.to_string())
            .unwrap_or_default();
        let now = ordo_kernel::time::now();
        let payout = self.config.payout(ordo_kernel::geo::distance_km(
            (merchant.lat, merchant.lon),
            (address.lat, address.lon),
        ));
        let delivery = domain::Delivery {
            id: ordo_kernel::new_id(),
            order_id: accepted.order_id,
            merchant_id: accepted.merchant_id,
            customer_id: accepted.customer_id,
            status: DeliveryStatus::Searching,
            courier_id: None,
            pickup: Stop {
                name: merchant.name,
                address: merchant.address,
                lat: merchant.lat,
                lon: merchant.lon,
            },
            pickup_cell,
            drop_off: Stop {
                name: customer,
                address: address.one_line(),
                lat: address.lat,
                lon: address.lon,
            },
            searching_since: now,
            escalated_at: None,
            assigned_at: None,
            picked_up_at: None,
            delivered_at: None,
            created_at: now,
            payout,
            search_radius_km: None,
            redispatched_at: None,
        };
        if store::insert_delivery(&mut *tx, &delivery, meta.traceparent.as_deref()).await? {
            self.dispatch(tx, &delivery, now, meta).await?;
        }
        Ok(())
    }

    /// Asks the next couriers for a waiting delivery — or, in `auto` mode, gives it to the
    /// best one. Those never asked come first, then those asked before whose rest is over
    /// (see [`domain::asked`]). Nobody near: it keeps waiting, and the sweep asks again.
    pub(super) async fn dispatch(
        &self,
        tx: &mut Tx,
        delivery: &domain::Delivery,
        now: OffsetDateTime,
        meta: &EventMeta,
    ) -> Result<usize, AppError> {
        let past = store::past_offers(&mut *tx, delivery.id).await?;
        let asked = domain::asked(
            &past,
            now,
            self.config.reoffer_after(),
            delivery.redispatched_at,
        );
        let candidates = self
            .askable(delivery, &asked, self.config.offer_batch)
            .await?;
        match self.config.mode {
            DispatchMode::Auto => {
                let fleet = self.fleet().await?;
                for candidate in candidates {
                    if fleet.claim(candidate.courier_id, now).await? {
                        let assigned = self.assign(tx, delivery, candidate.courier_id, now, meta);
                        if let Err(error) = assigned.await {
                            fleet.release(candidate.courier_id, now).await;
                            return Err(error);
                        }
                        return Ok(1);
                    }
                }
                Ok(0)
            }
            DispatchMode::Offers => {
                if candidates.is_empty() {
                    return Ok(0);
                }
                let expires_at = now + self.config.offer_ttl();
                for candidate in &candidates {
                    let offer = Offer {
                        id: ordo_kernel::new_id(),
                        delivery_id: delivery.id,
                        courier_id: candidate.courier_id,
                        status: OfferStatus::Open,
                        distance_km: candidate.distance_km,
                        created_at: now,
                        expires_at,
                    };
                    store::insert_offer(&mut *tx, &offer, meta.traceparent.as_deref()).await?;
                }
                self.step(tx, delivery, Trigger::Offer, None, now, meta)
                    .await?;
                let couriers: Vec<Uuid> = candidates.iter().map(|c| c.courier_id).collect();
                let event = publish::offered(delivery, &couriers, expires_at);
                publish::send(&self.outbox, tx, delivery.order_id, &event, meta).await?;
                Ok(couriers.len())
            }
        }
    }

    /// Up to `limit` idle couriers in the delivery's area who may be asked now: the
    /// never asked first, then the asked again.
    async fn askable(
        &self,
        delivery: &domain::Delivery,
        asked: &domain::Asked,
        limit: usize,
    ) -> Result<Vec<Candidate>, AppError> {
        let fleet = self.fleet().await?;
        let at = (delivery.pickup.lat, delivery.pickup.lon);
        let radius = self.radius_of(delivery);
        let mut found = fleet.candidates(at, radius, &asked.all(), limit).await?;
        if found.len() < limit {
            let mut except = asked.not_now.clone();
            except.extend(found.iter().map(|c| c.courier_id));
            found.extend(
                fleet
                    .candidates(at, radius, &except, limit - found.len())
                    .await?,
            );
        }
        Ok(found)
    }

    /// How far from the merchant the delivery's couriers are looked for.
    pub(super) fn radius_of(&self, delivery: &domain::Delivery) -> f64 {
        delivery
            .search_radius_km
            .unwrap_or(self.config.max_radius_km)
    }

    /// Gives the delivery to `courier_id` (taken in the fleet already) and withdraws its
    /// other offers; the delivery as assigned.
    pub(super) async fn assign(
        &self,
        tx: &mut Tx,
        delivery: &domain::Delivery,
        courier_id: Uuid,
        now: OffsetDateTime,
        meta: &EventMeta,
    ) -> Result<domain::Delivery, AppError> {
        let Some(assigned) = self
            .step(tx, delivery, Trigger::Assign, Some(courier_id), now, meta)
            .await?
        else {
            return Err(DeliveryError::Gone("another courier took the delivery").into());
        };
        let trace = meta.traceparent.as_deref();
        store::withdraw_offers(&mut *tx, delivery.id, Some(courier_id), now, trace).await?;
        let event = publish::assigned(delivery, courier_id);
        publish::send(&self.outbox, tx, delivery.order_id, &event, meta).await?;
        Ok(assigned)
    }

    /// Moves the delivery by `trigger` if its table allows it from where the delivery may
    /// be, in the trace of `meta`, and answers it moved; `None` when it has moved on
    /// meanwhile.
    pub(super) async fn step(
        &self,
        tx: &mut Tx,
        delivery: &domain::Delivery,
        trigger: Trigger,
        courier_id: Option<Uuid>,
        now: OffsetDateTime,
        meta: &EventMeta,
    ) -> Result<Option<domain::Delivery>, AppError> {
        let from: Vec<DeliveryStatus> = DeliveryStatus::ALL
            .into_iter()
            .filter(|s| domain::next(*s, trigger).is_some())
            .collect();
        let Some(to) = from.first().and_then(|s| domain::next(*s, trigger)) else {
            return Ok(None);
        };
        let trace = meta.traceparent.as_deref();
        Ok(store::move_delivery(&mut *tx, delivery.id, &from, to, courier_id, now, trace).await?)
    }

    /// Expires the offers due, asks the next couriers for the deliveries still waiting, and
    /// escalates those waiting too long; how many deliveries it moved.
    ///
    /// # Errors
    /// The database failing; the next sweep goes on.
    pub async fn sweep(&self, now: OffsetDateTime) -> Result<usize, AppError> {
        let mut moved = 0;
        let mut tx = self.db.begin().await?;
        let expired =
            store::expire_offers(&mut tx, now, EventMeta::job().traceparent.as_deref()).await?;
        tx.commit().await?;
        super::offers::answered(OfferStatus::Expired, expired.len());
        let escalate_before = now
            - time::Duration::seconds(
                i64::try_from(self.config.unassigned_after_secs).unwrap_or(i64::MAX),
            );
        let reoffer_after = self.config.reoffer_after();
        let mut starved = false;
        for (delivery, open_offers) in store::waiting(&self.db, SWEEP_BATCH).await? {
            let lapsed = open_offers == 0;
            // Only worth a transaction when someone may be asked, or there is news.
            let may_dispatch = lapsed && {
                let past = store::past_offers(&self.db, delivery.id).await?;
                let asked = domain::asked(&past, now, reoffer_after, delivery.redispatched_at);
                !self.askable(&delivery, &asked, 1).await?.is_empty()
            };
            starved |= lapsed && !may_dispatch;
            let lapse = lapsed && delivery.status == DeliveryStatus::Offered;
            let escalate =
                delivery.searching_since <= escalate_before && delivery.escalated_at.is_none();
            if !(may_dispatch || lapse || escalate) {
                continue;
            }
            let meta = EventMeta::job();
            let mut tx = self.db.begin().await?;
            if lapse
                && self
                    .step(&mut tx, &delivery, Trigger::Lapse, None, now, &meta)
                    .await?
                    .is_some()
            {
                moved += 1;
            }
            if may_dispatch {
                moved += usize::from(self.dispatch(&mut tx, &delivery, now, &meta).await? > 0);
            }
            let trace = meta.traceparent.as_deref();
            if escalate && store::escalate(&mut tx, delivery.id, now, trace).await? {
                let waited = (now - delivery.searching_since).whole_seconds();
                let event = publish::unassigned(&delivery, waited);
                publish::send(&self.outbox, &mut tx, delivery.order_id, &event, &meta).await?;
                tracing::warn!(delivery.id = %delivery.id, order.id = %delivery.order_id, waited_secs = waited, "delivery unassigned; escalated to operators");
                moved += 1;
            }
            self.outbox.commit(tx).await?;
            self.followers.changed(delivery.order_id);
        }
        self.fleet.waiters().set_wanted(starved);
        Ok(moved)
    }

    /// Publishes how long the oldest delivery has waited for a courier
    /// (`deliveries_awaiting_courier_oldest_seconds`, 0 when none waits), for the alert on
    /// deliveries nobody takes; moves nothing.
    ///
    /// # Errors
    /// The database failing; the next measurement goes on.
    pub async fn measure_waiting(&self, now: OffsetDateTime) -> Result<usize, AppError> {
        let oldest = store::oldest_waiting(&self.db).await?;
        let waited = oldest.map_or(0.0, |since| (now - since).as_seconds_f64().max(0.0));
        metrics::gauge!("deliveries_awaiting_courier_oldest_seconds").set(waited);
        Ok(0)
    }
}
