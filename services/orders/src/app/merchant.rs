//! The merchant's side: its queue of orders, and moving them on — accept or reject a paid
//! order, mark it ready, hand it over.

use super::transitions::Move;
use super::{AppError, Orders, OrdersError};
use crate::domain::{Actor, Fulfilment, Order, Shipment, Status, Trigger};
use crate::store::orders;
use ordo_bus::EventMeta;
use ordo_contracts::delivery::Tracking;
use ordo_kernel::Caller;
use ordo_kernel::validation::text;
use ordo_kernel::{Page, PageRequest, Role, Violations};
use time::OffsetDateTime;
use tracing::instrument;
use uuid::Uuid;

/// What a merchant's staff do to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MerchantAction {
    Accept,
    Reject {
        reason: String,
    },
    Ready,
    /// Handed over: to the customer (pickup: completed) or to a courier (delivery).
    HandedOver,
    /// Handed to a parcel carrier (shipping).
    Ship {
        carrier: String,
        tracking_number: String,
    },
}

/// The parcel of a `Ship`, its fields checked.
fn shipment(carrier: &str, tracking_number: &str) -> Result<Shipment, AppError> {
    let mut v = Violations::new();
    let carrier = v.check("carrier", text(carrier, 1, 60));
    let tracking = tracking_number.trim();
    if !(1..=40).contains(&tracking.len())
        || !tracking
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        v.add(
            "tracking_number",
            "must be 1 to 40 letters, digits or hyphens",
        );
    }
    v.into_result(|| Shipment {
        id: ordo_kernel::new_id(),
        carrier: carrier.unwrap_or_default(),
        tracking_number: tracking.to_owned(),
    })
    .map_err(AppError::Invalid)
}

/// Only merchant accounts and administrators ever act for a merchant: customers and
/// couriers are `Forbidden` whatever the merchant or order, before anything is looked up.
fn require_staff_role(caller: &Caller) -> Result<(), AppError> {
    if matches!(caller.role, Role::Merchant | Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only a merchant's staff may do this"))
    }
}

impl Orders {
    /// Another merchant's staff get `NotFound`: its orders do not exist for them.
    async fn check_staff(&self, caller: &Caller, merchant_id: Uuid) -> Result<(), AppError> {
        require_staff_role(caller)?;
        let staff = caller.role == Role::Admin
            || self
                .clients
                .catalog
                .merchant(merchant_id)
                .await?
                .is_some_and(|m| m.staff.contains(&caller.user_id));
        if staff {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The merchant's orders, newest first, optionally in one status; each delivery order
    /// being prepared with its delivery (who is coming, how near), as the board shows it.
    ///
    /// # Errors
    /// `Forbidden` unless a merchant account or an administrator, `NotFound` unless the
    /// caller is its staff.
    pub async fn merchant_orders(
        &self,
        caller: &Caller,
        merchant_id: Uuid,
        status: Option<Status>,
        page: PageRequest,
    ) -> Result<Page<(Order, Option<Tracking>)>, AppError> {
        self.check_staff(caller, merchant_id).await?;
        let rows = orders::of_merchant(
            &self.db,
            merchant_id,
            status,
            page.after.map(|c| c.0),
            page.fetch_limit(),
        )
        .await?;
        let page = Page::from_rows(rows, page, |o| o.id);
        let mut items = Vec::with_capacity(page.items.len());
        for order in page.items {
            let preparing = matches!(order.status, Status::Accepted | Status::Ready);
            let delivery = if preparing && order.fulfilment == Fulfilment::Delivery {
                self.courier_coming(order.id).await
            } else {
                None
            };
            items.push((order, delivery));
        }
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// The order's delivery as delivery tells it; none when it cannot say: the board
    /// without the courier's news is still the board.
    async fn courier_coming(&self, order_id: Uuid) -> Option<Tracking> {
        self.tracking(order_id)
            .await
            .inspect_err(|error| {
                tracing::warn!(order.id = %order_id, %error, "cannot say who delivers the order");
            })
            .ok()
            .flatten()
    }

    /// # Errors
    /// `Forbidden` (not a merchant account), `NotFound` (not the caller's merchant's
    /// order), `Invalid` (a rejection without a reason), `IllegalTransition`.
    #[instrument(skip_all, fields(user.id = %caller.user_id, order.id = %id))]
    pub async fn merchant_action(
        &self,
        caller: &Caller,
        id: Uuid,
        action: MerchantAction,
        meta: &EventMeta,
    ) -> Result<Order, AppError> {
        require_staff_role(caller)?;
        // Seeing the order proves a merchant user is its staff.
        let order = self.order(caller, id).await?;
        let (trigger, verb, cause) = match &action {
            MerchantAction::Accept => (
                Trigger::MerchantAccepts,
                "accepted",
                "accepted by the merchant".to_owned(),
            ),
            MerchantAction::Reject { reason } => {
                // Shown to the customer inside a sentence: one line of plain text.
                let reason = text(reason, 1, 300).map_err(|message| {
                    let mut v = Violations::new();
                    v.add("reason", message);
                    AppError::Invalid(v)
                })?;
                (
                    Trigger::MerchantRejects,
                    "rejected",
                    format!("rejected by the merchant: {reason}"),
                )
            }
            MerchantAction::Ready => (Trigger::MerchantReady, "marked ready", "ready".to_owned()),
            MerchantAction::HandedOver => match order.fulfilment {
                Fulfilment::Pickup => (
                    Trigger::PickedUpByCustomer,
                    "handed over",
                    "collected by the customer".to_owned(),
                ),
                Fulfilment::Delivery if order.courier_id.is_none() => {
                    return Err(OrdersError::CourierNotKnownYet.into());
                }
                Fulfilment::Delivery => (
                    Trigger::CourierPicksUp,
                    "handed over",
                    "handed to the courier".to_owned(),
                ),
                Fulfilment::Shipping => {
                    return Err(OrdersError::IllegalTransition(
                        order.status.as_str(),
                        "handed over; ship it instead",
                    )
                    .into());
                }
            },
            MerchantAction::Ship { .. } if order.fulfilment != Fulfilment::Shipping => {
                return Err(OrdersError::IllegalTransition(
                    order.status.as_str(),
                    "shipped; only shipping orders go by carrier",
                )
                .into());
            }
            MerchantAction::Ship { .. } => (
                Trigger::Shipped,
                "shipped",
                "handed to the carrier".to_owned(),
            ),
        };
        let parcel = match &action {
            MerchantAction::Ship {
                carrier,
                tracking_number,
            } => Some(shipment(carrier, tracking_number)?),
            _ => None,
        };
        let change = Move {
            trigger,
            actor: if caller.role == Role::Admin {
                Actor::Admin
            } else {
                Actor::Merchant
            },
            actor_id: Some(caller.user_id),
            cause: &cause,
        };
        let mut tx = self.db.begin().await?;
        if let Some(parcel) = &parcel {
            orders::set_shipment(&mut tx, id, parcel).await?;
        }
        if self.apply(&mut tx, id, &change, meta).await?.is_none() {
            return Err(OrdersError::IllegalTransition(order.status.as_str(), verb).into());
        }
        self.outbox.commit(tx).await?;
        self.moved(id);
        self.order(caller, id).await
    }

    /// Rejects the paid orders no merchant staff accepted since before `before`: the
    /// authorisation is voided, the stock released and the customer told, as for any
    /// rejection. How many were rejected.
    ///
    /// # Errors
    /// The database failing; the next sweep goes on.
    pub async fn reject_unaccepted(&self, before: OffsetDateTime) -> Result<usize, AppError> {
        let waiting = orders::awaiting_merchant(&self.db, before, 500).await?;
        let change = Move {
            trigger: Trigger::MerchantRejects,
            actor: Actor::System,
            actor_id: None,
            cause: "not accepted by the merchant in time",
        };
        self.move_each(waiting, &change).await
    }

    /// Publishes how long the oldest paid order has waited for its merchant
    /// (`orders_awaiting_merchant_oldest_seconds`, 0 when none waits), for the alert on
    /// merchants who do not answer; moves nothing.
    ///
    /// # Errors
    /// The database failing; the next measurement goes on.
    pub async fn measure_waiting(&self, now: OffsetDateTime) -> Result<usize, AppError> {
        let oldest = orders::oldest_awaiting_merchant(&self.db).await?;
        let waited = oldest.map_or(0.0, |paid| (now - paid).as_seconds_f64().max(0.0));
        metrics::gauge!("orders_awaiting_merchant_oldest_seconds").set(waited);
        Ok(0)
    }
}
