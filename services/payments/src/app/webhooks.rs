//! Provider webhooks: what the processor tells us on its own — a refund (made from its
//! dashboard, or one of ours it confirms), an authorisation that expired. Each is signed
//! (HMAC-SHA256 over `{timestamp}.{body}`), fresh (five minutes) and handled once.

use super::{AppError, Payments, PaymentsError};
use crate::domain::{Action, Payment, RefundStatus};
use crate::store;
use ordo_bus::EventMeta;
use ordo_kernel::validation::verbatim;
use ordo_kernel::{Money, Violations, signature};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
struct Webhook {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: WebhookData,
}

#[derive(Debug, Deserialize)]
struct WebhookData {
    reference: String,
    amount: Option<i64>,
    /// The idempotency key of the request that made it, when it was ours
    /// (`refund:{refund id}`).
    idempotency_key: Option<String>,
}

/// What a webhook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Applied,
    /// Seen before, or about nothing we hold: acknowledged, nothing changed.
    Ignored,
}

impl Payments {
    /// Verifies and applies one webhook of the provider, received in the trace of `meta`.
    ///
    /// # Errors
    /// `NotFound` when webhooks are not configured, `BadSignature`, `Invalid` for a body
    /// that is not a webhook.
    pub async fn webhook(
        &self,
        signature: &str,
        body: &[u8],
        meta: &EventMeta,
    ) -> Result<WebhookOutcome, AppError> {
        let secret = self.webhook_secret.as_ref().ok_or(AppError::NotFound)?;
        let now = ordo_kernel::time::now();
        signature::verify(secret.expose().as_bytes(), signature, body, now)
            .map_err(PaymentsError::BadSignature)?;
        let webhook: Webhook = serde_json::from_slice(body).map_err(|e| {
            let mut v = Violations::new();
            v.add("body", format!("not a webhook: {e}"));
            AppError::Invalid(v)
        })?;
        let mut v = Violations::new();
        v.check("id", verbatim(&webhook.id));
        v.check("type", verbatim(&webhook.kind));
        v.check("data.reference", verbatim(&webhook.data.reference));
        v.into_result(|| ())?;
        let mut tx = self.db.begin().await?;
        if !store::remember_provider_event(
            &mut tx,
            &webhook.id,
            self.provider.name(),
            &webhook.kind,
            now,
        )
        .await?
        {
            return Ok(WebhookOutcome::Ignored);
        }
        let Some(payment) = store::payment_by_reference(&mut tx, &webhook.data.reference).await?
        else {
            tx.commit().await?;
            return Ok(WebhookOutcome::Ignored);
        };
        let applied = match webhook.kind.as_str() {
            "charge.refunded" => {
                let ours = webhook
                    .data
                    .idempotency_key
                    .as_deref()
                    .and_then(|key| key.strip_prefix("refund:"))
                    .and_then(|id| id.parse::<Uuid>().ok());
                match ours {
                    Some(refund_id) => self.confirmed(&mut tx, &payment, refund_id, meta).await?,
                    None => {
                        self.refunded_at_provider(&mut tx, &payment, webhook.data.amount, meta)
                            .await?
                    }
                }
            }
            "authorization.expired" => {
                self.expired_at_provider(&mut tx, &payment, now, meta)
                    .await?
            }
            _ => false,
        };
        self.outbox.commit(tx).await?;
        Ok(if applied {
            WebhookOutcome::Applied
        } else {
            WebhookOutcome::Ignored
        })
    }
}

impl Payments {
    /// The provider confirms one of our refunds: a pending one is made now (and announced);
    /// one made already, or not this payment's, changes nothing.
    async fn confirmed(
        &self,
        tx: &mut ordo_db::Tx,
        payment: &Payment,
        refund_id: Uuid,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        let Some((amount, RefundStatus::Pending)) =
            store::refund_of(tx, payment.id, refund_id).await?
        else {
            return Ok(false);
        };
        let refund = super::Refund {
            id: refund_id,
            amount: Money {
                amount,
                currency: payment.currency.clone(),
            },
            refunded_total: payment.refunded_amount,
            status: RefundStatus::Succeeded,
        };
        self.settle(tx, payment, &refund, meta).await
    }

    async fn refunded_at_provider(
        &self,
        tx: &mut ordo_db::Tx,
        payment: &Payment,
        amount: Option<i64>,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        let amount = amount.unwrap_or(payment.captured_amount - payment.refunded_amount);
        if amount <= 0 {
            return Ok(false);
        }
        let refund = super::Refund {
            id: Uuid::now_v7(),
            amount: Money {
                amount,
                currency: payment.currency.clone(),
            },
            refunded_total: payment.refunded_amount + amount,
            status: RefundStatus::Succeeded,
        };
        // Made at the provider, not by one of our users.
        let nobody = Uuid::nil();
        self.record_refund(tx, payment, &refund, nobody, meta).await
    }

    async fn expired_at_provider(
        &self,
        tx: &mut ordo_db::Tx,
        payment: &Payment,
        now: OffsetDateTime,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        self.mark_voided(tx, payment, Action::ExpireAtProvider, now, meta)
            .await
    }
}
