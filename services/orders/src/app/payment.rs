//! A second chance for a declined payment: the order waits in `payment_failed`, its stock
//! held, with the reason in words for its customer; the customer tries another card
//! (`order.payment_retried`, which payments authorises as the order's next attempt); when
//! nobody has paid by the end of the window, the order is cancelled and its stock
//! released.

use super::transitions::Move;
use super::{AppError, Orders, OrdersError};
use crate::domain::{Actor, Order, Trigger, payment_failure};
use crate::store::orders;
use ordo_bus::EventMeta;
use ordo_db::Tx;
use ordo_kernel::{Caller, Role};
use time::OffsetDateTime;
use tracing::instrument;
use uuid::Uuid;

impl Orders {
    /// The provider declined the order's payment (`code`, its stable code): the order waits
    /// for another card until the window that opened at its first decline closes. Inside
    /// the consumer's transaction; whether the order moved.
    ///
    /// # Errors
    /// The database or the outbox failing.
    pub(crate) async fn payment_declined(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        code: &str,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        let retry_until = ordo_kernel::time::now() + self.payment_retry;
        let words = payment_failure(code);
        if !orders::payment_declined(tx, order_id, words, retry_until).await? {
            tracing::info!(order.id = %order_id, code, "a declined payment for an order not pending payment; nothing changed");
            return Ok(false);
        }
        let change = Move {
            trigger: Trigger::PaymentFailed,
            actor: Actor::System,
            actor_id: None,
            cause: &format!("payment failed: {code}"),
        };
        Ok(self.apply(tx, order_id, &change, meta).await?.is_some())
    }

    /// The customer tries another of their cards for their declined order: it is pending
    /// payment again, and payments is asked to authorise it with that card. A repeat finds
    /// the order pending already and is refused, so one request never asks twice.
    ///
    /// # Errors
    /// `NotFound` (not the caller's to see), `Forbidden` (not the customer who placed it),
    /// `Invalid` (not one of the customer's cards), `IllegalTransition` (not declined).
    #[instrument(skip_all, fields(user.id = %caller.user_id, order.id = %id))]
    pub async fn retry_payment(
        &self,
        caller: &Caller,
        id: Uuid,
        payment_method_id: Uuid,
        meta: &EventMeta,
    ) -> Result<Order, AppError> {
        let order = self.order(caller, id).await?;
        if caller.role != Role::Customer || order.customer_id != caller.user_id {
            return Err(AppError::Forbidden(
                "only the customer who placed the order pays for it",
            ));
        }
        self.payment_method(caller.user_id, Some(payment_method_id))
            .await?;
        let change = Move {
            trigger: Trigger::PaymentRetried,
            actor: Actor::Customer,
            actor_id: Some(caller.user_id),
            cause: "paying with another card",
        };
        let mut tx = self.db.begin().await?;
        let retried = orders::payment_retried(&mut tx, id, payment_method_id).await?
            && self.apply(&mut tx, id, &change, meta).await?.is_some();
        if !retried {
            return Err(OrdersError::IllegalTransition(
                order.status.as_str(),
                "paid with another card",
            )
            .into());
        }
        self.outbox.commit(tx).await?;
        self.moved(id);
        self.order(caller, id).await
    }

    /// Cancels the declined orders whose window to try another card closed by `now`: their
    /// stock is released and their customer told. How many were cancelled.
    ///
    /// # Errors
    /// The database failing; the next sweep goes on.
    pub async fn close_retry_windows(&self, now: OffsetDateTime) -> Result<usize, AppError> {
        let closed = orders::retry_window_closed(&self.db, now, 500).await?;
        let change = Move {
            trigger: Trigger::PaymentWindowClosed,
            actor: Actor::System,
            actor_id: None,
            cause: "no other card was tried in time",
        };
        self.move_each(closed, &change).await
    }
}
