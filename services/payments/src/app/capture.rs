//! Charging a completed order, and refunds by an operator — never more than was charged.
//! A refund is reserved against the capture in the database first, then asked of the
//! provider with the refund's id as idempotency key, then settled; one the provider could
//! not confirm stays reserved and is asked again by `settle_pending_refunds`, with the same
//! key, so it is paid out once whatever happens in between.

use super::{AppError, Payments, PaymentsError};
use crate::domain::{Action, Payment, RefundStatus, next};
use crate::store;
use ordo_bus::EventMeta;
use ordo_contracts::payments::PaymentRefunded;
use ordo_db::Tx;
use ordo_kernel::Caller;
use ordo_kernel::{Money, Role, Violations};
use tracing::instrument;
use uuid::Uuid;

/// A refund made, or reserved and waiting for the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: Uuid,
    pub amount: Money,
    /// Refunded so far, this one included.
    pub refunded_total: i64,
    pub status: RefundStatus,
}

/// A pending refund is asked of the provider again once it is this old: the request that
/// reserved it has finished or died by then.
const PENDING_REFUND_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

impl Payments {
    /// Refunds `amount` (everything not yet refunded when `None`) of a charged order; the
    /// refund comes back pending when the provider could not confirm it.
    ///
    /// # Errors
    /// `Forbidden` (administrators only), `NotFound` (no charged payment), `Conflict`
    /// (not charged, or nothing left), `Invalid` (an amount that is not positive or passes
    /// what is left).
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
        let payment = store::payment_of_order(&mut *tx, order_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if next(payment.status, Action::Refund).is_none() {
            return Err(PaymentsError::Conflict("only a charged payment can be refunded").into());
        }
        let left = payment.captured_amount - payment.refunded_amount;
        if left == 0 {
            return Err(PaymentsError::Conflict("everything charged is refunded already").into());
        }
        let amount = amount.unwrap_or(left);
        if amount <= 0 || amount > left {
            let mut v = Violations::new();
            v.add(
                "amount",
                format!("must be between 1 and {left}, what is left of the charge"),
            );
            return Err(AppError::Invalid(v));
        }
        let id = ordo_kernel::new_id();
        let now = ordo_kernel::time::now();
        let pending = RefundStatus::Pending;
        let Some(refunded_total) = store::refund(
            &mut tx,
            payment.id,
            id,
            amount,
            caller.user_id,
            pending,
            now,
        )
        .await?
        else {
            return Err(PaymentsError::Conflict("another refund took what was left").into());
        };
        tx.commit().await?;
        let refund = Refund {
            id,
            amount: Money {
                amount,
                currency: payment.currency.clone(),
            },
            refunded_total,
            status: pending,
        };
        match self.pay_out(&payment, &refund, meta).await {
            Ok(()) => Ok(Refund {
                status: RefundStatus::Succeeded,
                ..refund
            }),
            // Reserved either way: the sweep asks the provider again (the same key never
            // pays twice) and records it; a retry by the operator would be a second refund.
            Err(error) => {
                tracing::warn!(%error, refund.id = %refund.id, "refund pending: it will be asked again");
                Ok(refund)
            }
        }
    }

    /// Asks the provider for a reserved refund (the same key however often) and settles it.
    async fn pay_out(
        &self,
        payment: &Payment,
        refund: &Refund,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let reference = payment.provider_ref.as_deref().unwrap_or_default();
        self.provider
            .refund(reference, &refund.amount, &format!("refund:{}", refund.id))
            .await?;
        let mut tx = self.db.begin().await?;
        self.settle(&mut tx, payment, refund, meta).await?;
        self.outbox.commit(tx).await?;
        Ok(())
    }

    /// Marks a pending refund made and announces it; false when it was settled before.
    pub(crate) async fn settle(
        &self,
        tx: &mut Tx,
        payment: &Payment,
        refund: &Refund,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        if !store::settle_refund(&mut **tx, refund.id).await? {
            return Ok(false);
        }
        self.announce_refund(tx, payment, refund, meta).await?;
        Ok(true)
    }

    /// Asks the provider again for refunds left pending (it was unavailable, or the process
    /// died between reserving and settling). Returns how many were settled.
    ///
    /// # Errors
    /// The database failing.
    pub async fn settle_pending_refunds(
        &self,
        now: time::OffsetDateTime,
    ) -> Result<usize, AppError> {
        let before = now - PENDING_REFUND_RETRY;
        let pending = store::pending_refunds(self.db.reader(), before, 100).await?;
        let mut settled = 0;
        for pending in pending {
            let payment = store::payment_of_order(self.db.reader(), pending.order_id).await?;
            let Some(payment) = payment else { continue };
            let refund = Refund {
                id: pending.refund_id,
                amount: Money {
                    amount: pending.amount,
                    currency: payment.currency.clone(),
                },
                refunded_total: payment.refunded_amount,
                status: RefundStatus::Pending,
            };
            match self.pay_out(&payment, &refund, &EventMeta::default()).await {
                Ok(()) => settled += 1,
                Err(AppError::Service(PaymentsError::Provider(error))) => {
                    tracing::warn!(%error, refund.id = %refund.id, "refund still pending");
                }
                Err(other) => return Err(other),
            }
        }
        Ok(settled)
    }

    /// Records `refund` of `payment`, made already (at the provider), if it stays within
    /// the capture, and says so; false when it would pass what was charged.
    pub(crate) async fn record_refund(
        &self,
        tx: &mut Tx,
        payment: &Payment,
        refund: &Refund,
        by: Uuid,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        let now = ordo_kernel::time::now();
        let amount = refund.amount.amount;
        let status = RefundStatus::Succeeded;
        let Some(refunded_total) =
            store::refund(tx, payment.id, refund.id, amount, by, status, now).await?
        else {
            return Ok(false);
        };
        let refund = Refund {
            refunded_total,
            ..refund.clone()
        };
        self.announce_refund(tx, payment, &refund, meta).await?;
        Ok(true)
    }

    /// `payment.refunded`, for a refund the provider has made.
    pub(crate) async fn announce_refund(
        &self,
        tx: &mut Tx,
        payment: &Payment,
        refund: &Refund,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
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
        Ok(())
    }
}
