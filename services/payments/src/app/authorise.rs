//! Authorising a placed order, voiding the authorisation when the order ends before
//! capture, capturing it when the order completes: each made by `requests` once the
//! consumer that asked has committed, outside any transaction, with the provider's
//! idempotency key (`pay:`, `void:`, `capture:` and the order; a card tried after a decline
//! adds its attempt to `pay:`), so that asking twice holds, releases or charges the money
//! once.

use super::{AppError, Payments};
use crate::domain::{
    Action, Charge, Payment, PaymentStatus, ProviderRequest, authorisation_key, next,
};
use crate::provider::{Authorization, Capture};
use crate::store;
use ordo_bus::EventMeta;
use ordo_contracts::payments::{PaymentAuthorized, PaymentCaptured, PaymentFailed, PaymentVoided};
use ordo_db::Tx;
use ordo_kernel::Money;

impl Payments {
    /// Holds the order's total on its card, then records the answer: the order's payment,
    /// or — for a card tried after a decline — the payment's next attempt.
    pub(super) async fn authorise(
        &self,
        request: &ProviderRequest,
        charge: &Charge,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let order_id = request.order_id;
        let earlier = store::payment_of_order(&self.db, order_id).await?;
        // Answered before (this request asked again), or not a decline to try again.
        if earlier
            .as_ref()
            .is_some_and(|p| p.attempt >= charge.attempt || p.status != PaymentStatus::Failed)
        {
            return self.answered(self.db.begin().await?, request).await;
        }
        let method = match charge.payment_method_id {
            Some(id) => store::method_of(&self.db, charge.customer_id, id).await?,
            None => None,
        };
        let outcome = match &method {
            Some(method) => {
                let key = authorisation_key(order_id, charge.attempt);
                self.provider
                    .authorize(&method.token, &charge.amount, &key)
                    .await?
            }
            None => Authorization::Declined {
                code: "payment_method_invalid".into(),
            },
        };
        let (status, reference, failure) = match outcome {
            Authorization::Approved { reference } => {
                (PaymentStatus::Authorized, Some(reference), None)
            }
            Authorization::Declined { code } => (PaymentStatus::Failed, None, Some(code)),
        };
        let now = ordo_kernel::time::now();
        let payment = Payment {
            id: earlier.as_ref().map_or_else(ordo_kernel::new_id, |p| p.id),
            order_id,
            customer_id: charge.customer_id,
            payment_method_id: method.as_ref().map(|m| m.id),
            provider: self.provider.name().to_owned(),
            provider_ref: reference,
            status,
            amount: charge.amount.amount,
            currency: charge.amount.currency.clone(),
            failure_reason: failure.clone(),
            captured_amount: 0,
            refunded_amount: 0,
            attempt: charge.attempt,
            created_at: now,
        };
        let mut tx = self.db.begin().await?;
        let recorded = match &earlier {
            None => store::insert_payment(&mut tx, &payment).await?,
            Some(declined) => {
                let action = if failure.is_none() {
                    Action::RetryApproved
                } else {
                    Action::RetryDeclined
                };
                next(declined.status, action).is_some()
                    && store::record_attempt(&mut tx, &payment, now).await?
            }
        };
        if recorded {
            let subject = order_id.to_string();
            match failure {
                None => {
                    let event = PaymentAuthorized {
                        order_id,
                        payment_id: payment.id,
                        amount: charge.amount.clone(),
                    };
                    self.outbox.append(&mut tx, &subject, &event, meta).await?;
                }
                Some(reason) => {
                    let event = PaymentFailed {
                        order_id,
                        payment_id: payment.id,
                        reason,
                    };
                    self.outbox.append(&mut tx, &subject, &event, meta).await?;
                }
            }
        }
        self.answered(tx, request).await
    }

    /// Releases the order's authorisation, if it holds one, then records it.
    pub(super) async fn void(
        &self,
        request: &ProviderRequest,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let order_id = request.order_id;
        let Some(payment) = self.payment_open_to(order_id, Action::Void).await? else {
            return self.answered(self.db.begin().await?, request).await;
        };
        self.void_at_provider(&payment).await?;
        let mut tx = self.db.begin().await?;
        let now = ordo_kernel::time::now();
        self.mark_voided(&mut tx, &payment, Action::Void, now, meta)
            .await?;
        self.answered(tx, request).await
    }

    /// Asks the provider to release the payment's hold, with the one key an order's void
    /// has however often it is asked.
    pub(super) async fn void_at_provider(&self, payment: &Payment) -> Result<(), AppError> {
        if let Some(reference) = &payment.provider_ref {
            let key = format!("void:{}", payment.order_id);
            self.provider.void(reference, &key).await?;
        }
        Ok(())
    }

    /// Charges the order's authorisation, then records it.
    pub(super) async fn capture(
        &self,
        request: &ProviderRequest,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let order_id = request.order_id;
        let payment = self.payment_open_to(order_id, Action::Capture).await?;
        let Some((payment, reference)) =
            payment.and_then(|p| p.provider_ref.clone().map(|reference| (p, reference)))
        else {
            return self.answered(self.db.begin().await?, request).await;
        };
        let amount = Money {
            amount: payment.amount,
            currency: payment.currency.clone(),
        };
        let now = ordo_kernel::time::now();
        let answer = self
            .provider
            .capture(&reference, &amount, &format!("capture:{order_id}"))
            .await?;
        let mut tx = self.db.begin().await?;
        match answer {
            Capture::Captured => {
                let trace = meta.traceparent.as_deref();
                if store::captured(&mut tx, order_id, now, trace).await? {
                    let event = PaymentCaptured {
                        order_id,
                        payment_id: payment.id,
                        amount,
                    };
                    self.outbox
                        .append(&mut tx, &order_id.to_string(), &event, meta)
                        .await?;
                }
            }
            Capture::Failed { code } => {
                tracing::warn!(order.id = %order_id, code, "capture refused by the provider");
                if let Some(to) = next(payment.status, Action::RefuseCapture) {
                    let trace = meta.traceparent.as_deref();
                    store::transition(&mut tx, order_id, payment.status, to, now, trace).await?;
                }
            }
        }
        self.answered(tx, request).await
    }

    /// The order's payment, when its status table lets `action` happen to it.
    async fn payment_open_to(
        &self,
        order_id: uuid::Uuid,
        action: Action,
    ) -> Result<Option<Payment>, AppError> {
        let payment = store::payment_of_order(&self.db, order_id).await?;
        Ok(payment.filter(|p| next(p.status, action).is_some()))
    }

    /// Records that the payment's authorisation no longer holds (`action`: voided by us, or
    /// expired at the provider), and says so; false when the table does not allow it (the
    /// payment was voided, captured or failed before).
    pub(crate) async fn mark_voided(
        &self,
        tx: &mut Tx,
        payment: &Payment,
        action: Action,
        at: time::OffsetDateTime,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        let Some(to) = next(payment.status, action) else {
            return Ok(false);
        };
        let trace = meta.traceparent.as_deref();
        if !store::transition(tx, payment.order_id, payment.status, to, at, trace).await? {
            return Ok(false);
        }
        let event = PaymentVoided {
            order_id: payment.order_id,
            payment_id: payment.id,
        };
        self.outbox
            .append(tx, &payment.order_id.to_string(), &event, meta)
            .await?;
        Ok(true)
    }
}
