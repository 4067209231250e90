//! Charging a completed order, and refunds by an operator — never more than was charged.

use super::{AppError, Payments};
use crate::provider::Capture;
use crate::store;
use ordo_bus::EventMeta;
use ordo_contracts::payments::{PaymentCaptured, PaymentRefunded};
use ordo_db::Tx;
use ordo_http::Caller;
use ordo_kernel::{Money, Role, Violations};
use tracing::instrument;
use uuid::Uuid;

/// A refund made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: Uuid,
    pub amount: Money,
    /// Refunded so far, this one included.
    pub refunded_total: i64,
}

impl Payments {
    /// Captures the order's authorisation; inside the consumer's transaction.
    pub(crate) async fn capture(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let Some(payment) = store::payment_of_order(tx, order_id).await? else {
            return Ok(());
        };
        let (true, Some(reference)) = (
            payment.status == "authorized",
            payment.provider_ref.as_deref(),
        ) else {
            return Ok(());
        };
        let amount = Money {
            amount: payment.amount,
            currency: payment.currency.clone(),
        };
        let now = ordo_kernel::time::now();
        match self
            .provider
            .capture(reference, &amount, &format!("capture:{order_id}"))
            .await?
        {
            Capture::Captured => {
                if store::captured(tx, order_id, now).await? {
                    let event = PaymentCaptured {
                        order_id,
                        payment_id: payment.id,
                        amount,
                    };
                    self.outbox
                        .append(tx, &order_id.to_string(), &event, meta)
                        .await?;
                }
            }
            Capture::Failed { code } => {
                tracing::warn!(order.id = %order_id, code, "capture refused by the provider");
                store::transition(tx, order_id, "authorized", "capture_failed", now).await?;
            }
        }
        Ok(())
    }

    /// Refunds `amount` (everything not yet refunded when `None`) of a charged order.
    ///
    /// # Errors
    /// `Forbidden` (administrators only), `NotFound` (no charged payment), `Invalid`
    /// (an amount that is not positive or passes what is left), `Provider`.
    #[instrument(skip_all, fields(user.id = %caller.user_id, order.id = %order_id))]
    pub async fn refund(
        &self,
        caller: &Caller,
        order_id: Uuid,
        amount: Option<i64>,
        meta: &EventMeta,
    ) -> Result<Refund, AppError> {
        if caller.role != Role::Admin {
            return Err(AppError::Forbidden("refunds are made by operators"));
        }
        let mut tx = self.db.begin().await?;
        let payment = store::payment_of_order(&mut tx, order_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if payment.status != "captured" {
            return Err(AppError::Conflict("only a charged payment can be refunded"));
        }
        let left = payment.captured_amount - payment.refunded_amount;
        let amount = amount.unwrap_or(left);
        if amount <= 0 || amount > left {
            let mut v = Violations::new();
            v.add(
                "amount",
                format!("must be between 1 and {left}, what is left of the charge"),
            );
            return Err(AppError::Invalid(v));
        }
        let refund_id = ordo_kernel::new_id();
        let money = Money {
            amount,
            currency: payment.currency.clone(),
        };
        let reference = payment.provider_ref.clone().unwrap_or_default();
        self.provider
            .refund(&reference, &money, &format!("refund:{refund_id}"))
            .await?;
        let refund = Refund {
            id: refund_id,
            amount: money,
            refunded_total: payment.refunded_amount + amount,
        };
        if !self
            .record_refund(&mut tx, &payment, &refund, caller.user_id, meta)
            .await?
        {
            return Err(AppError::Conflict("another refund took what was left"));
        }
        self.outbox.commit(tx).await?;
        Ok(refund)
    }

    /// Records `refund` of `payment` if it stays within the capture, and says so; false
    /// when it would pass what was charged.
    pub(crate) async fn record_refund(
        &self,
        tx: &mut Tx,
        payment: &store::Payment,
        refund: &Refund,
        by: Uuid,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        let now = ordo_kernel::time::now();
        if !store::refund(tx, payment.id, refund.id, refund.amount.amount, by, now).await? {
            return Ok(false);
        }
        let event = PaymentRefunded {
            order_id: payment.order_id,
            payment_id: payment.id,
            refund_id: refund.id,
            amount: refund.amount.clone(),
            full: refund.refunded_total == payment.captured_amount,
        };
        self.outbox
            .append(tx, &payment.order_id.to_string(), &event, meta)
            .await?;
        Ok(true)
    }
}
