//! What payments kept of an order, for its timeline.

use crate::domain::ProviderRequest;
use ordo_db::{Db, FromRow, Tx, params};
use time::OffsetDateTime;
use uuid::Uuid;

/// The order's payment as it stands: its latest authorisation's answer and its end.
#[derive(Debug, Clone, FromRow)]
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
#[derive(Debug, Clone, FromRow)]
pub struct RefundStep {
    pub amount: i64,
    pub status: String,
    pub created_at: OffsetDateTime,
    pub traceparent: Option<String>,
}

/// A request to the provider not yet answered.
#[derive(Debug, Clone, FromRow)]
pub struct PendingRequest {
    pub action: String,
    pub attempts: i64,
    pub traceparent: Option<String>,
    pub created_at: OffsetDateTime,
}

pub async fn payment(db: &Db, order_id: Uuid) -> Result<Option<PaymentSteps>, ordo_db::Error> {
    db.fetch_optional(
        "SELECT status, amount, currency, failure_reason, attempt, COALESCE(answered_at, created_at) AS answered_at, settled_at,
                settled_traceparent
         FROM payments WHERE order_id = $1",
        params![order_id],
    )
    .await
}

pub async fn refunds(db: &Db, order_id: Uuid) -> Result<Vec<RefundStep>, ordo_db::Error> {
    db.fetch_all(
        "SELECT r.amount, r.status, r.created_at, r.traceparent FROM refunds r JOIN payments p ON p.id = r.payment_id
         WHERE p.order_id = $1 ORDER BY r.created_at, r.id",
        params![order_id],
    )
    .await
}

pub async fn pending_requests(
    db: &Db,
    order_id: Uuid,
) -> Result<Vec<PendingRequest>, ordo_db::Error> {
    db.fetch_all(
        "SELECT action, attempts, traceparent, created_at FROM provider_requests
         WHERE order_id = $1 ORDER BY created_at",
        params![order_id],
    )
    .await
}

/// A request to the provider, answered.
#[derive(Debug, Clone, FromRow)]
pub struct Answer {
    pub action: String,
    pub attempt: i64,
    pub traceparent: Option<String>,
    pub asked_at: OffsetDateTime,
    pub answered_at: OffsetDateTime,
}

/// Keeps `request` as answered at `at` (in the transaction that records its answer); an
/// answer kept before stays.
pub async fn record_answer(
    tx: &mut Tx,
    request: &ProviderRequest,
    at: OffsetDateTime,
) -> Result<(), ordo_db::Error> {
    tx.execute(
        "INSERT INTO provider_answers (order_id, action, attempt, traceparent, asked_at, answered_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id, action, attempt) DO NOTHING",
        params![
            request.order_id,
            request.action,
            request.charge.as_ref().map_or(1, |c| c.attempt),
            request.traceparent,
            request.created_at,
            at,
        ],
    )
    .await
    .map(drop)
}

/// The order's answered requests, oldest first.
pub async fn answers(db: &Db, order_id: Uuid) -> Result<Vec<Answer>, ordo_db::Error> {
    db.fetch_all(
        "SELECT action, attempt, traceparent, asked_at, answered_at FROM provider_answers
         WHERE order_id = $1 ORDER BY asked_at, action",
        params![order_id],
    )
    .await
}
