//! The reports' use cases: each event's fact is journaled and counted in its hour;
//! operators read the platform's report, a merchant's staff their merchant's; the counters
//! are rebuilt from the journal on demand.

use crate::domain::{Fact, Period, Report, Timing, bin_of, cause_of, hour_of};
use crate::store::{self, PLATFORM, Step, Whose};
use ordo_contracts::catalog::CatalogClient;
use ordo_db::{Db, Tx};
use ordo_kernel::{Caller, Role};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

pub struct Analytics {
    db: Db,
    catalog: Arc<dyn CatalogClient>,
}

impl std::fmt::Debug for Analytics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analytics")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// The service's own refusal; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// A fact of an order whose placement has not been counted yet: it waits for it.
    #[error("order {0} is not placed here yet")]
    NotPlacedYet(Uuid),
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<AnalyticsError>;

/// How many journaled facts a rebuild reads at a time.
const REBUILD_BATCH: i64 = 1_000;

impl Analytics {
    #[must_use]
    pub fn new(db: Db, catalog: Arc<dyn CatalogClient>) -> Self {
        Analytics { db, catalog }
    }

    /// Journals what event `event_id` (of `event_type`, at `at`) says and counts it. A fact
    /// of an order not placed here yet waits for the placement (its source's events may
    /// overtake the orders').
    ///
    /// # Errors
    /// The database failing; `NotPlacedYet`.
    pub async fn record(
        &self,
        tx: &mut Tx,
        event_id: Uuid,
        event_type: &str,
        at: OffsetDateTime,
        fact: Fact,
    ) -> Result<(), AppError> {
        if let Some(order_id) = fact.order_id()
            && !matches!(fact, Fact::Placed { .. })
            && store::order(tx, order_id).await?.is_none()
        {
            return Err(AnalyticsError::NotPlacedYet(order_id).into());
        }
        if store::journal(tx, event_id, event_type, at, &fact).await? {
            apply(tx, at, &fact).await?;
        }
        Ok(())
    }

    /// Makes every counter again from the journal, in one transaction; how many facts
    /// it read.
    ///
    /// # Errors
    /// The database failing.
    pub async fn rebuild(&self) -> Result<u64, AppError> {
        let mut tx = self.db.begin().await?;
        store::clear(&mut tx).await?;
        let (mut after, mut read) = (None, 0_u64);
        loop {
            let facts = store::journaled(&mut tx, after, REBUILD_BATCH).await?;
            let Some((at, id, _)) = facts.last() else {
                break;
            };
            after = Some((*at, *id));
            for (at, _, fact) in &facts {
                apply(&mut tx, *at, fact).await?;
                read += 1;
            }
        }
        tx.commit().await?;
        Ok(read)
    }

    /// The whole platform's report (operators).
    ///
    /// # Errors
    /// `Forbidden` for others.
    pub async fn summary(&self, caller: &Caller, period: &Period) -> Result<Report, AppError> {
        if caller.role != Role::Admin {
            return Err(AppError::Forbidden(
                "reports of the platform are for operators",
            ));
        }
        self.report(PLATFORM, period).await
    }

    async fn report(&self, whose: Whose, period: &Period) -> Result<Report, AppError> {
        let db = &self.db;
        Ok(Report {
            buckets: store::buckets(db, whose, period).await?,
            timings: store::timings(db, whose, period).await?,
            causes: store::causes(db, whose, period).await?,
        })
    }

    /// A merchant's report, for its staff and operators; anyone else is told there is no
    /// such merchant.
    ///
    /// # Errors
    /// `NotFound` as said.
    pub async fn merchant_report(
        &self,
        caller: &Caller,
        merchant_id: Uuid,
        period: &Period,
    ) -> Result<Report, AppError> {
        let allowed = match caller.role {
            Role::Admin => self.catalog.merchant(merchant_id).await?.is_some(),
            Role::Merchant => self
                .catalog
                .merchant(merchant_id)
                .await?
                .is_some_and(|m| m.staff.contains(&caller.user_id)),
            Role::Customer | Role::Courier => false,
        };
        if !allowed {
            return Err(AppError::NotFound);
        }
        self.report(Whose::Merchant(merchant_id), period).await
    }
}

/// Counts `fact`, which happened `at`, in its merchant's hour and the platform's: its
/// counters, the duration of the step it ends, the cause of an ending.
async fn apply(tx: &mut Tx, at: OffsetDateTime, fact: &Fact) -> Result<(), AppError> {
    let hour = hour_of(at);
    // With the order's total, which a completion adds to the completed orders' totals.
    let (merchant, currency, total) = match fact {
        Fact::CartStarted {
            merchant_id,
            currency,
        } => (Whose::Merchant(*merchant_id), currency.clone(), 0),
        Fact::Placed {
            order_id,
            merchant_id,
            currency,
            total,
            ..
        } => {
            store::placed(tx, *order_id, *merchant_id, currency, *total, at).await?;
            (Whose::Merchant(*merchant_id), currency.clone(), *total)
        }
        other => {
            let known = match other.order_id() {
                Some(order_id) => store::order(tx, order_id)
                    .await?
                    .map(|order| (order_id, order)),
                None => None,
            };
            let Some((order_id, order)) = known else {
                tracing::warn!(?other, "a fact of an order never placed: not counted");
                return Ok(());
            };
            let merchant = Whose::Merchant(order.merchant_id);
            let took = match other {
                Fact::Accepted { .. } => store::reached(tx, order_id, Step::Accepted, at)
                    .await?
                    .then(|| (Timing::Acceptance, at - order.placed_at)),
                Fact::Ready { .. } => {
                    let first = store::reached(tx, order_id, Step::Ready, at).await?;
                    order
                        .accepted_at
                        .filter(|_| first)
                        .map(|accepted| (Timing::Preparation, at - accepted))
                }
                Fact::PickedUp { .. } => {
                    store::reached(tx, order_id, Step::PickedUp, at).await?;
                    None
                }
                Fact::Completed { .. } => order
                    .picked_up_at
                    .map(|picked_up| (Timing::Delivery, at - picked_up)),
                _ => None,
            };
            if let Some((timing, duration)) = took {
                let bin = bin_of(duration.as_seconds_f64());
                for whose in [merchant, PLATFORM] {
                    store::add_timing(tx, whose, hour, timing, bin).await?;
                }
            }
            let ending = match other {
                Fact::Cancelled { reason, .. } => Some(("cancelled", reason)),
                Fact::Rejected { reason, .. } => Some(("rejected", reason)),
                _ => None,
            };
            if let Some((outcome, reason)) = ending {
                let cause = cause_of(reason);
                for whose in [merchant, PLATFORM] {
                    store::add_cause(tx, whose, hour, outcome, &cause).await?;
                }
            }
            (merchant, order.currency, order.total)
        }
    };
    let mut counts = fact.counts();
    if matches!(fact, Fact::Completed { .. }) {
        counts.completed_total = total;
    }
    if !counts.is_zero() {
        for whose in [merchant, PLATFORM] {
            store::add(tx, whose, hour, &currency, &counts).await?;
        }
    }
    Ok(())
}
