//! What payments kept of an order, for its timeline.

use ordo_db::row;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

/// The order's payment as it stands: its latest authorisation's answer and its end.
#[derive(Debug, Clone)]
pub struct PaymentSteps {
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub failure_reason: Option<String>,
    pub attempt: i64,
    pub answered_at: OffsetDateTime,
    pub settled_at: Option<OffsetDateTime>,
}

/// A refund of the order's payment.
#[derive(Debug, Clone)]
pub struct RefundStep {
    pub amount: i64,
    pub status: String,
    pub created_at: OffsetDateTime,
}

/// A request to the provider not yet answered.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub action: String,
    pub attempt: i64,
    pub attempts: i64,
    pub traceparent: Option<String>,
    pub created_at: OffsetDateTime,
}

pub async fn payment<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<PaymentSteps>, sqlx::Error> {
    sqlx::query(
        "SELECT status, amount, currency, failure_reason, attempt, COALESCE(answered_at, created_at) AS answered_at, settled_at
         FROM payments WHERE order_id = $1",
    )
    .bind(order_id.to_string())
    .fetch_optional(executor)
    .await?
    .map(|row| {
        Ok(PaymentSteps {
            status: row.try_get("status")?,
            amount: row.try_get("amount")?,
            currency: row.try_get("currency")?,
            failure_reason: row.try_get("failure_reason")?,
            attempt: row.try_get("attempt")?,
            answered_at: row::instant(&row, "answered_at")?,
            settled_at: row::opt_instant(&row, "settled_at")?,
        })
    })
    .transpose()
}

pub async fn refunds<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Vec<RefundStep>, sqlx::Error> {
    sqlx::query(
        "SELECT r.amount, r.status, r.created_at FROM refunds r JOIN payments p ON p.id = r.payment_id
         WHERE p.order_id = $1 ORDER BY r.created_at, r.id",
    )
    .bind(order_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(RefundStep {
            amount: row.try_get("amount")?,
            status: row.try_get("status")?,
            created_at: row::instant(row, "created_at")?,
        })
    })
    .collect()
}

pub async fn pending_requests<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Vec<PendingRequest>, sqlx::Error> {
    sqlx::query(
        "SELECT action, attempt, attempts, traceparent, created_at FROM provider_requests
         WHERE order_id = $1 ORDER BY created_at",
    )
    .bind(order_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(PendingRequest {
            action: row.try_get("action")?,
            attempt: row.try_get("attempt")?,
            attempts: row.try_get("attempts")?,
            traceparent: row.try_get("traceparent")?,
            created_at: row::instant(row, "created_at")?,
        })
    })
    .collect()
}
