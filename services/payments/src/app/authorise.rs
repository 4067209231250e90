//! Authorising a placed order once, and voiding it when the order ends before capture.
//! Both run inside the consumer's transaction; the provider is called with an idempotency
//! key, so a redelivered event never holds money twice.

use super::{AppError, Payments};
use crate::domain::{Action, Payment, PaymentStatus, next};
use crate::provider::Authorization;
use crate::store;
use ordo_bus::EventMeta;
use ordo_contracts::orders::OrderPlaced;
use ordo_contracts::payments::{PaymentAuthorized, PaymentFailed, PaymentVoided};
use ordo_db::Tx;
use ordo_kernel::Money;
use uuid::Uuid;

impl Payments {
    pub(crate) async fn authorise(
        &self,
        tx: &mut Tx,
        placed: &OrderPlaced,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        if store::payment_of_order(tx, placed.order_id)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let method = match placed.payment_method_id {
            Some(id) => store::method_of(&mut **tx, placed.customer_id, id).await?,
            None => None,
        };
        let outcome = match &method {
            Some(method) => {
                let key = format!("pay:{}", placed.order_id);
                self.provider
                    .authorize(&method.token, &placed.total, &key)
                    .await?
            }
            None => Authorization::Declined {
                code: "payment_method_invalid".into(),
            },
        };
        let now = ordo_kernel::time::now();
        let (status, reference, failure) = match &outcome {
            Authorization::Approved { reference } => {
                (PaymentStatus::Authorized, Some(reference.clone()), None)
            }
            Authorization::Declined { code } => (PaymentStatus::Failed, None, Some(code.clone())),
        };
        let payment = Payment {
            id: ordo_kernel::new_id(),
            order_id: placed.order_id,
            customer_id: placed.customer_id,
            payment_method_id: method.as_ref().map(|m| m.id),
            provider: self.provider.name().to_owned(),
            provider_ref: reference,
            status,
            amount: placed.total.amount,
            currency: placed.total.currency.clone(),
            failure_reason: failure.clone(),
            captured_amount: 0,
            refunded_amount: 0,
            created_at: now,
        };
        store::insert_payment(tx, &payment).await?;
        let subject = placed.order_id.to_string();
        match failure {
            None => {
                let event = PaymentAuthorized {
                    order_id: placed.order_id,
                    payment_id: payment.id,
                    amount: Money {
                        amount: payment.amount,
                        currency: payment.currency.clone(),
                    },
                };
                self.outbox.append(tx, &subject, &event, meta).await?;
            }
            Some(reason) => {
                let event = PaymentFailed {
                    order_id: placed.order_id,
                    payment_id: payment.id,
                    reason,
                };
                self.outbox.append(tx, &subject, &event, meta).await?;
            }
        }
        Ok(())
    }

    /// Releases the order's authorisation, if it holds one.
    pub(crate) async fn void(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let Some(payment) = store::payment_of_order(tx, order_id).await? else {
            return Ok(());
        };
        if next(payment.status, Action::Void).is_none() {
            return Ok(());
        }
        if let Some(reference) = &payment.provider_ref {
            self.provider
                .void(reference, &format!("void:{order_id}"))
                .await?;
        }
        self.mark_voided(tx, &payment, Action::Void, ordo_kernel::time::now(), meta)
            .await?;
        Ok(())
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
        if !store::transition(tx, payment.order_id, payment.status, to, at).await? {
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
