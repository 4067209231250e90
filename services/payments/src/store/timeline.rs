//! What payments kept of an order, for its timeline.

use crate::domain::ProviderRequest;
use ordo_db::row::{self, millis};
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
    /// The trace of what settled it, when the provider was not asked (a webhook's).
    pub settled_traceparent: Option<String>,
}

/// A refund of the order's payment.
#[derive(Debug, Clone)]
pub struct RefundStep {
    pub amount: i64,
    pub status: String,
    pub created_at: OffsetDateTime,
    pub traceparent: Option<String>,
}

/// A request to the provider not yet answered.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub action: String,
    pub attempts: i64,
    pub traceparent: Option<String>,
    pub created_at: OffsetDateTime,
}

pub async fn payment<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<PaymentSteps>, sqlx::Error> {
    sqlx::query(
        "SELECT status, amount, currency, failure_reason, attempt, COALESCE(answered_at, created_at) AS answered_at, settled_at,
                settled_traceparent
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
            settled_traceparent: row.try_get("settled_traceparent")?,
        })
    })
    .transpose()
}

pub async fn refunds<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Vec<RefundStep>, sqlx::Error> {
    sqlx::query(
        "SELECT r.amount, r.status, r.created_at, r.traceparent FROM refunds r JOIN payments p ON p.id = r.payment_id
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
            traceparent: row.try_get("traceparent")?,
        })
    })
    .collect()
}

pub async fn pending_requests<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Vec<PendingRequest>, sqlx::Error> {
    sqlx::query(
        "SELECT action, attempts, traceparent, created_at FROM provider_requests
         WHERE order_id = $1 ORDER BY created_at",
    )
    .bind(order_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(PendingRequest {
            action: row.try_get("action")?,
            attempts: row.try_get("attempts")?,
            traceparent: row.try_get("traceparent")?,
            created_at: row::instant(row, "created_at")?,
        })
    })
    .collect()
}

/// A request to the provider, answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub action: String,
    pub attempt: i64,
    pub traceparent: Option<String>,
    pub asked_at: OffsetDateTime,
    pub answered_at: OffsetDateTime,
}

/// Keeps `request` as answered at `at` (in the transaction that records its answer); an
/// answer kept before stays.
pub async fn record_answer<'c>(
    executor: impl Executor<'c, Database = Any>,
    request: &ProviderRequest,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provider_answers (order_id, action, attempt, traceparent, asked_at, answered_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id, action, attempt) DO NOTHING",
    )
    .bind(request.order_id.to_string())
    .bind(request.action.as_str())
    .bind(request.charge.as_ref().map_or(1, |c| c.attempt))
    .bind(request.traceparent.as_deref())
    .bind(millis(request.created_at))
    .bind(millis(at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// The order's answered requests, oldest first.
pub async fn answers<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Vec<Answer>, sqlx::Error> {
    sqlx::query(
        "SELECT action, attempt, traceparent, asked_at, answered_at FROM provider_answers
         WHERE order_id = $1 ORDER BY asked_at, action",
    )
    .bind(order_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(Answer {
            action: row.try_get("action")?,
            attempt: row.try_get("attempt")?,
            traceparent: row.try_get("traceparent")?,
            asked_at: row::instant(row, "asked_at")?,
            answered_at: row::instant(row, "answered_at")?,
        })
    })
    .collect()
}
