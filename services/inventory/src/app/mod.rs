//! Inventory's use cases: stock levels set by a merchant's staff; reservations held at
//! checkout (all or nothing), kept through a declined order's window for another card,
//! committed when paid, released when the order ends unpaid, expired when the hold runs
//! out. Each is idempotent by order id.
//!
//! The rule that keeps a paid order from outrunning its stock: an order is paid only when
//! inventory says its stock is committed (`reservation.committed`). A hold that ran out
//! before the payment came is taken again when the stock is still there, or else the
//! order is lost (`reservation.lost`) and orders cancels it; a reservation released because
//! the order ended is never taken again.

mod client;
mod timeline;

#[cfg(test)]
mod tests;

use crate::domain::{self, ReservationStatus, Stock, Take};
use crate::store::{self, Movement};
use ordo_bus::{EventMeta, Outbox};
use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::inventory::{
    Reservation, ReservationCommitted, ReservationLine, ReservationLost, Shortage, StockChanged,
};
use ordo_db::{Db, Tx};
use ordo_kernel::Caller;
use ordo_kernel::Role;
use std::sync::Arc;
use std::time::Duration;
use tracing::instrument;
use uuid::Uuid;

pub struct Inventory {
    db: Db,
    outbox: Outbox,
    catalog: Arc<dyn CatalogClient>,
    hold: Duration,
}

impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory")
            .field("db", &self.db)
            .field("hold", &self.hold)
            .finish_non_exhaustive()
    }
}

/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{reserved} units are reserved for orders; on_hand cannot go below that")]
    BelowReserved { reserved: i64 },
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<InventoryError>;

/// What a stock level looks like to its merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub slots: i64,
}

impl From<Stock> for StockLevel {
    fn from(stock: Stock) -> Self {
        StockLevel {
            on_hand: stock.on_hand,
            reserved: stock.reserved,
            available: stock.available(),
            slots: stock.slots,
        }
    }
}

impl Inventory {
    /// Inventory over its database, publishing through `outbox`; holds last `hold` before
    /// they expire.
    #[must_use]
    pub fn new(db: Db, outbox: Outbox, catalog: Arc<dyn CatalogClient>, hold: Duration) -> Self {
        Inventory {
            db,
            outbox,
            catalog,
            hold,
        }
    }

    /// The product's merchant, when the caller is one of its staff (or an administrator).
    /// Other roles never manage stock (`Forbidden`); another merchant's staff get
    /// `NotFound`: what is not theirs does not exist for them.
    async fn merchant_for(&self, caller: &Caller, product_id: Uuid) -> Result<Uuid, AppError> {
        if !matches!(caller.role, Role::Merchant | Role::Admin) {
            return Err(AppError::Forbidden(
                "only the merchant's staff manage its stock",
            ));
        }
        let product = self
            .catalog
            .products(&[product_id])
            .await?
            .pop()
            .ok_or(AppError::NotFound)?;
        if caller.role == Role::Admin {
            return Ok(product.merchant_id);
        }
        let merchant = self
            .catalog
            .merchant(product.merchant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if merchant.staff.contains(&caller.user_id) {
            Ok(product.merchant_id)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// # Errors
    /// `Forbidden` (not a merchant account), `NotFound` (no such product, or not the
    /// caller's merchant's).
    pub async fn stock(&self, caller: &Caller, product_id: Uuid) -> Result<StockLevel, AppError> {
        self.merchant_for(caller, product_id).await?;
        let stock = store::stock(&self.db, product_id).await?;
        Ok(stock
            .unwrap_or(Stock {
                on_hand: 0,
                reserved: 0,
                slots: 1,
            })
            .into())
    }

    /// Sets what is on the shelf, spread over `slots` rows (as many as it has when `None`,
    /// one for a product not counted before); the change is announced in the trace of
    /// `meta` (the request's).
    ///
    /// # Errors
    /// `NotFound`, `Forbidden`, `Invalid`, `BelowReserved`.
    #[instrument(skip_all, fields(user.id = %caller.user_id, product.id = %product_id))]
    pub async fn set_stock(
        &self,
        caller: &Caller,
        product_id: Uuid,
        on_hand: i64,
        slots: Option<i64>,
        meta: &EventMeta,
    ) -> Result<StockLevel, AppError> {
        let merchant_id = self.merchant_for(caller, product_id).await?;
        let on_hand = domain::on_hand(on_hand)?;
        let slots = slots.map(domain::slots).transpose()?;
        let mut tx = self.db.begin().await?;
        let now = ordo_kernel::time::now();
        store::open(&mut tx, product_id, merchant_id, now).await?;
        let current = store::lock_slots(&mut tx, product_id, now)
            .await?
            .map(|locked| locked.slots)
            .unwrap_or_default();
        let slots = slots.unwrap_or_else(|| i64::try_from(current.len()).unwrap_or(1).max(1));
        let counted = domain::spread(&current, on_hand, slots)
            .map_err(|reserved| InventoryError::BelowReserved { reserved })?;
        store::write_slots(&mut tx, product_id, merchant_id, &counted, now).await?;
        if current.iter().any(|s| s.slot >= slots) {
            store::retire_slots(&mut tx, product_id, slots).await?;
        }
        let stock = Stock {
            on_hand,
            reserved: counted.iter().map(|s| s.reserved).sum(),
            slots,
        };
        let level = store::Level {
            product_id,
            merchant_id,
            available: stock.available(),
        };
        self.announce(&mut tx, &[level], meta).await?;
        tx.commit().await?;
        Ok(stock.into())
    }

    /// Holds every line for the order, or nothing, in the trace of `meta` (the checkout's).
    ///
    /// # Errors
    /// `Invalid` lines; the database failing.
    #[instrument(skip_all, fields(order.id = %order_id))]
    pub async fn reserve(
        &self,
        order_id: Uuid,
        lines: &[ReservationLine],
        meta: &EventMeta,
    ) -> Result<Reservation, AppError> {
        let totals = domain::aggregate(lines)?;
        if let Some(reservation) = self
            .try_reserve(order_id, &totals, meta, Taking::Drawn)
            .await?
        {
            return Ok(reservation);
        }
        self.try_reserve(order_id, &totals, meta, Taking::Careful)
            .await?
            .ok_or_else(|| {
                AppError::Unexpected(anyhow::anyhow!(
                    "order {order_id}: a careful reservation gave up"
                ))
            })
    }

    /// [`Inventory::reserve`] in one transaction, taking the stock as `taking` says; `None`
    /// when it gave up (then nothing was written).
    async fn try_reserve(
        &self,
        order_id: Uuid,
        totals: &[(Uuid, i64)],
        meta: &EventMeta,
        taking: Taking,
    ) -> Result<Option<Reservation>, AppError> {
        let mut tx = self.db.begin().await?;
        match store::reservation(&mut tx, order_id).await? {
            // Asked before: the same answer, nothing held twice.
            Some(ReservationStatus::Held | ReservationStatus::Committed) => {
                return Ok(Some(Reservation::Held));
            }
            Some(_) => return Ok(Some(Reservation::GivenUp)),
            None => {}
        }
        let now = ordo_kernel::time::now();
        let trace = meta.traceparent.as_deref();
        // The reservation first and the stock last: a product's stock row stays locked from
        // its hold to the commit, so nothing else waits for a round trip in between (an
        // order out of stock rolls the reservation back with the rest).
        store::insert_reservation(&mut tx, order_id, totals, now + self.hold, now, trace).await?;
        let mut short = Vec::new();
        let mut sold_out = Vec::new();
        for (product_id, quantity) in totals {
            match hold(&mut tx, order_id, *product_id, *quantity, now, taking).await? {
                Hold::Held(level) if level.available == 0 => sold_out.push(level),
                Hold::Held(_) => {}
                Hold::Short => short.push((*product_id, *quantity)),
                Hold::GaveUp => {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
        }
        if !short.is_empty() {
            let shortages = shortages(&mut tx, short).await?;
            tx.rollback().await?;
            self.announce_sold_out(&shortages, meta).await?;
            return Ok(Some(Reservation::OutOfStock(shortages)));
        }
        self.announce(&mut tx, &sold_out, meta).await?;
        tx.commit().await?;
        Ok(Some(Reservation::Held))
    }

    /// The order's payment was authorised: its stock leaves the shelf, and the order may be
    /// paid (`reservation.committed`). A hold that ran out is taken again if the stock is
    /// still there; otherwise the order is lost (`reservation.lost`). Inside the consumer's
    /// transaction; a reservation already committed or released changes nothing.
    pub(crate) async fn commit(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let now = ordo_kernel::time::now();
        let trace = meta.traceparent.as_deref();
        // Every move is a conditional update; one that finds the reservation moved meanwhile
        // (by the expiry sweep, a release) looks again rather than doing nothing. Most find
        // it held: that move is tried before the status is read, a round trip less.
        let mut status = Some(ReservationStatus::Held);
        for attempt in 0..=MOVES {
            if attempt > 0 {
                status = store::reservation(tx, order_id).await?;
            }
            match status {
                Some(ReservationStatus::Held) => {
                    if store::transition(tx, order_id, HELD, COMMITTED, now, trace).await? {
                        store::apply(tx, order_id, Movement::Commit, now).await?;
                        let committed = ReservationCommitted { order_id };
                        self.outbox
                            .append(tx, &order_id.to_string(), &committed, meta)
                            .await?;
                        return Ok(());
                    }
                }
                Some(ReservationStatus::Expired) => {
                    // Taken first, so that nothing else moves it while its stock is held.
                    if store::transition(tx, order_id, EXPIRED, HELD, now, trace).await? {
                        let lines = store::lines(tx, order_id).await?;
                        let shortages = match self.hold_again(tx, order_id, &lines, now).await? {
                            Ok(sold_out) => {
                                self.announce(tx, &sold_out, meta).await?;
                                Vec::new()
                            }
                            Err(shortages) => shortages,
                        };
                        if shortages.is_empty() {
                            tracing::info!(order.id = %order_id, "paid after its hold ran out; the stock was still there");
                            continue;
                        }
                        store::transition(tx, order_id, HELD, EXPIRED, now, trace).await?;
                        tracing::warn!(order.id = %order_id, "paid after its hold ran out, and the stock is gone");
                        let lost = ReservationLost {
                            order_id,
                            shortages,
                        };
                        self.outbox
                            .append(tx, &order_id.to_string(), &lost, meta)
                            .await?;
                        return Ok(());
                    }
                }
                status => {
                    tracing::info!(order.id = %order_id, status = ?status, "no hold to commit");
                    return Ok(());
                }
            }
        }
        Err(kept_moving(order_id))
    }

    /// The order's payment was declined and its customer may try another card until
    /// `until`: its hold lasts at least that long. A hold that ran out already is taken
    /// again when the payment comes, if the stock is still there (`commit`). Inside the
    /// consumer's transaction.
    pub(crate) async fn hold_until(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        until: time::OffsetDateTime,
    ) -> Result<(), AppError> {
        let now = ordo_kernel::time::now();
        if !store::extend_hold(tx, order_id, until, now).await? {
            tracing::info!(order.id = %order_id, "no hold to keep for a declined order");
        }
        Ok(())
    }

    /// Holds the order's `lines` again, all or nothing: the products it sold out, or what is
    /// short (then nothing is held).
    async fn hold_again(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        lines: &[(Uuid, i64)],
        now: time::OffsetDateTime,
    ) -> Result<Result<Vec<store::Level>, Vec<Shortage>>, ordo_db::Error> {
        let mut held = Vec::with_capacity(lines.len());
        let mut short = Vec::new();
        for (product_id, quantity) in lines {
            match hold(tx, order_id, *product_id, *quantity, now, Taking::Careful).await? {
                Hold::Held(level) => held.push((level, *quantity)),
                Hold::Short | Hold::GaveUp => short.push((*product_id, *quantity)),
            }
        }
        if short.is_empty() {
            return Ok(Ok(held
                .into_iter()
                .map(|(level, _)| level)
                .filter(|level| level.available == 0)
                .collect()));
        }
        for (level, quantity) in held {
            store::unhold(tx, order_id, level.product_id, quantity, now).await?;
        }
        Ok(Err(shortages(tx, short).await?))
    }

    /// Says again that the products of `shortages` with nothing left are sold out. A product
    /// kept in several slots can sell out in two transactions at once, each taking the last
    /// units of its own slot while seeing the other's still there, so that neither said so.
    async fn announce_sold_out(
        &self,
        shortages: &[Shortage],
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let mut levels = Vec::new();
        for shortage in shortages.iter().filter(|s| s.available == 0) {
            levels.extend(store::sold_out_in_slots(&self.db, shortage.product_id).await?);
        }
        if levels.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        self.announce(&mut tx, &levels, meta).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tells shoppers' services (search) what is available now of the products moved.
    async fn announce(
        &self,
        tx: &mut Tx,
        levels: &[store::Level],
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        for level in levels {
            let changed = StockChanged {
                product_id: level.product_id,
                merchant_id: level.merchant_id,
                available: level.available,
            };
            self.outbox
                .append(tx, &level.product_id.to_string(), &changed, meta)
                .await?;
        }
        Ok(())
    }

    /// The order ended (or its checkout was given up): a hold is given back, committed
    /// stock returns to the shelf, and nothing can be held or taken again for it later.
    pub(crate) async fn release(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let now = ordo_kernel::time::now();
        let trace = meta.traceparent.as_deref();
        for _ in 0..MOVES {
            let Some(status) = store::reservation(tx, order_id).await? else {
                // Given up before it reserved: a late reservation must find it closed. One
                // that came in between is released at the next look.
                if store::insert_given_up(tx, order_id, now, trace).await? {
                    return Ok(());
                }
                continue;
            };
            let (to, movement) = match status {
                HELD => (ReservationStatus::Released, Some(Movement::Release)),
                EXPIRED => (ReservationStatus::Released, None),
                COMMITTED => (ReservationStatus::Returned, Some(Movement::Return)),
                ReservationStatus::Released | ReservationStatus::Returned => return Ok(()),
            };
            if store::transition(tx, order_id, status, to, now, trace).await? {
                if let Some(movement) = movement {
                    let levels = store::apply(tx, order_id, movement, now).await?;
                    self.announce(tx, &levels, meta).await?;
                }
                return Ok(());
            }
        }
        Err(kept_moving(order_id))
    }

    /// Gives back holds that ran out by `now`. Returns how many.
    ///
    /// # Errors
    /// The database failing.
    pub async fn expire_holds(&self, now: time::OffsetDateTime) -> Result<usize, AppError> {
        let orders = store::expired(&self.db, now, 500).await?;
        let mut expired = 0;
        for order_id in orders {
            let meta = EventMeta::job();
            let mut tx = self.db.begin().await?;
            if store::transition(
                &mut tx,
                order_id,
                ReservationStatus::Held,
                ReservationStatus::Expired,
                now,
                meta.traceparent.as_deref(),
            )
            .await?
            {
                let levels = store::apply(&mut tx, order_id, Movement::Release, now).await?;
                self.announce(&mut tx, &levels, &meta).await?;
                expired += 1;
            }
            tx.commit().await?;
        }
        Ok(expired)
    }
}

/// Looks at a reservation this many times while others move it, then gives up for a retry.
const MOVES: usize = 4;
const HELD: ReservationStatus = ReservationStatus::Held;
const EXPIRED: ReservationStatus = ReservationStatus::Expired;
const COMMITTED: ReservationStatus = ReservationStatus::Committed;

fn kept_moving(order_id: Uuid) -> AppError {
    AppError::Unexpected(anyhow::anyhow!(
        "the reservation of order {order_id} kept moving; retrying"
    ))
}

/// How a hold takes a product's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taking {
    /// From the slot the line drew, waiting for it as every writer does; gives up when that
    /// slot has not enough. A conditional update that waited for a row and then found it
    /// short still holds that row's lock (PostgreSQL locks the row's newest version before
    /// it looks again), and locking the product's other slots on top of it could deadlock
    /// with another order doing the same: the order starts again instead, carefully.
    Drawn,
    /// Every slot of the product locked first, slot 0 then the rest, as a count takes them:
    /// then from a slot with enough, or all of them merged into slot 0.
    Careful,
}

/// What became of a hold.
enum Hold {
    /// The product's level after it.
    Held(store::Level),
    /// The product has not that many.
    Short,
    /// Its drawn slot had not enough: nothing is known of the others (see [`Taking`]).
    GaveUp,
}

/// Holds `quantity` of the product for the order's line, taking it as `taking` says.
async fn hold(
    tx: &mut Tx,
    order_id: Uuid,
    product_id: Uuid,
    quantity: i64,
    now: time::OffsetDateTime,
    taking: Taking,
) -> Result<Hold, ordo_db::Error> {
    if taking == Taking::Drawn {
        let held = store::hold(tx, order_id, product_id, quantity, now).await?;
        return Ok(held.map_or(Hold::GaveUp, Hold::Held));
    }
    let Some(locked) = store::lock_slots(tx, product_id, now).await? else {
        return Ok(Hold::Short);
    };
    let slot = match domain::take(&locked.slots, quantity, fastrand::usize(..)) {
        Take::Slot(slot) => slot,
        Take::Merge => {
            let merged = domain::merge(&locked.slots);
            store::write_slots(tx, product_id, locked.merchant_id, &merged, now).await?;
            0
        }
        Take::Short => return Ok(Hold::Short),
    };
    store::set_line_slot(tx, order_id, product_id, slot).await?;
    let held = store::hold(tx, order_id, product_id, quantity, now).await?;
    Ok(held.map_or(Hold::Short, Hold::Held))
}

/// What is available of each product that fell `short` (product, quantity asked for).
async fn shortages(tx: &mut Tx, short: Vec<(Uuid, i64)>) -> Result<Vec<Shortage>, ordo_db::Error> {
    let mut shortages = Vec::with_capacity(short.len());
    for (product_id, requested) in short {
        let available = store::stock(&mut *tx, product_id)
            .await?
            .map_or(0, |s| s.available());
        shortages.push(Shortage {
            product_id,
            requested,
            available,
        });
    }
    Ok(shortages)
}
