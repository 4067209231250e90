//! Charging a completed order, and refunds by an operator — never more than was charged.
//! A refund is reserved against the capture in the database first, then asked of the
//! provider with the refund's id as idempotency key, then settled; one the provider could
//! not confirm stays reserved and is asked again by `settle_pending_refunds`, with the same
//! key, so it is paid out once whatever happens in between.

use super::{AppError, Payments, PaymentsError};
use crate::domain::{Action, Payment, PaymentStatus, RefundStatus, next};
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

/// What an operator's refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Money went back, or is reserved to go back.
    Refunded(Refund),
    /// Nothing was charged on an order that ended, and its authorisation stood (its end
    /// was handled before its placement, or a void was lost): released instead.
    Voided { payment_id: Uuid, amount: Money },
}

/// The most one refund may name, as the API's schema says.
const MAX_REFUND: i64 = 1_000_000_000;

/// A pending refund is asked of the provider again once it is this old: the request that
/// reserved it has finished or died by then.
const PENDING_REFUND_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

impl Payments {
    /// Refunds `amount` (everything not yet refunded when `None`) of a charged order; the
    /// refund comes back pending when the provider could not confirm it. On an order that
    /// ended with nothing charged, an authorisation still standing is voided instead.
    ///
    /// # Errors
    /// `Forbidden` (administrators only), `NotFound` (no payment), `Conflict` (not charged
    /// and the order under way, or nothing left), `Invalid` (an amount out of the schema's
    /// range, past what is left, or part of an authorisation to void).
    #[instrument(skip_all, fields(user.id = %caller.user_id, order.id = %order_id))]
    pub async fn refund(
        &self,
        caller: &Caller,
        order_id: Uuid,
        amount: Option<i64>,
        meta: &EventMeta,
    ) -> Result<RefundOutcome, AppError> {
        if caller.role != Role::Admin {
            return Err(AppError::Forbidden("refunds are made by operators"));
        }
        if let Some(amount) = amount
            && !(1..=MAX_REFUND).contains(&amount)
        {
            let mut v = Violations::new();
            v.add("amount", format!("must be between 1 and {MAX_REFUND}"));
            return Err(AppError::Invalid(v));
        }
        let mut tx = self.db.begin().await?;
        let payment = store::payment_of_order(&mut tx, order_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if payment.status == PaymentStatus::Authorized && payment.captured_amount == 0 {
            tx.rollback().await?;
            return self.void_standing(&payment, amount, meta).await;
        }
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
        let refund = store::NewRefund {
            id,
            amount,
            by: caller.user_id,
            status: pending,
            at: now,
            traceparent: meta.traceparent.as_deref(),
        };
        let Some(refunded_total) = store::refund(&mut tx, payment.id, refund).await? else {
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
            Ok(()) => Ok(RefundOutcome::Refunded(Refund {
                status: RefundStatus::Succeeded,
                ..refund
            })),
            // Reserved either way: the sweep asks the provider again (the same key never
            // pays twice) and records it; a retry by the operator would be a second refund.
            Err(error) => {
                tracing::warn!(%error, refund.id = %refund.id, "refund pending: it will be asked again");
                Ok(RefundOutcome::Refunded(refund))
            }
        }
    }

    /// Voids an authorisation standing on an order that ended: the operator's repair when
    /// the void the end asked for found nothing to release. With the same idempotency key
    /// as that void, so the money is released once.
    async fn void_standing(
        &self,
        payment: &Payment,
        amount: Option<i64>,
        meta: &EventMeta,
    ) -> Result<RefundOutcome, AppError> {
        if amount.is_some_and(|amount| amount != payment.amount) {
            let mut v = Violations::new();
            v.add(
                "amount",
                format!(
                    "nothing was charged: the authorisation of {} is released whole (omit the amount)",
                    payment.amount
                ),
            );
            return Err(AppError::Invalid(v));
        }
        let order_id = payment.order_id;
        if !store::has_ended(&self.db, order_id).await? {
            return Err(PaymentsError::Conflict(
                "nothing is charged yet and the order is under way: its authorisation is captured when it completes, or released when it ends",
            )
            .into());
        }
        self.void_at_provider(payment).await?;
        let mut tx = self.db.begin().await?;
        let now = ordo_kernel::time::now();
        if !self
            .mark_voided(&mut tx, payment, Action::Void, now, meta)
            .await?
        {
            return Err(PaymentsError::Conflict("the authorisation was released meanwhile").into());
        }
        self.outbox.commit(tx).await?;
        tracing::warn!(order.id = %order_id, payment.id = %payment.id, "an authorisation standing on an ended order was voided by an operator");
        Ok(RefundOutcome::Voided {
            payment_id: payment.id,
            amount: Money {
                amount: payment.amount,
                currency: payment.currency.clone(),
            },
        })
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
        if !store::settle_refund(tx, refund.id).await? {
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
        let pending = store::pending_refunds(&self.db, before, 100).await?;
        let mut settled = 0;
        for pending in pending {
            let payment = store::payment_of_order(&self.db, pending.order_id).await?;
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
            match self.pay_out(&payment, &refund, &EventMeta::job()).await {
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
        let made = store::NewRefund {
            id: refund.id,
            amount,
            by,
            status: RefundStatus::Succeeded,
            at: now,
            traceparent: meta.traceparent.as_deref(),
        };
        let Some(refunded_total) = store::refund(tx, payment.id, made).await? else {
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
