//! The payments service's SQL, the same on SQLite and PostgreSQL.

use crate::domain::{
    Charge, Payment, PaymentMethod, PaymentStatus, ProviderRequest, RefundStatus, RequestAction,
};
use ordo_db::{Db, Executor, FromRow, StatusMove, Tx, params};
use ordo_kernel::{Money, Page, PageRequest};
use time::OffsetDateTime;
use uuid::Uuid;

pub mod timeline;

#[cfg(test)]
mod tests;

ordo_db::text_value!(PaymentStatus, RefundStatus, RequestAction);

const METHOD_COLUMNS: &str =
    "id, user_id, provider, token, brand, last4, exp_month, exp_year, created_at";

#[derive(FromRow)]
struct MethodRow {
    id: Uuid,
    user_id: Uuid,
    provider: String,
    token: String,
    brand: String,
    last4: String,
    exp_month: i64,
    exp_year: i64,
    created_at: OffsetDateTime,
}

impl From<MethodRow> for PaymentMethod {
    fn from(row: MethodRow) -> Self {
        PaymentMethod {
            id: row.id,
            user_id: row.user_id,
            provider: row.provider,
            token: row.token,
            brand: row.brand,
            last4: row.last4,
            exp_month: row.exp_month,
            exp_year: row.exp_year,
            created_at: row.created_at,
        }
    }
}

/// Most cards a customer may keep.
pub const MAX_METHODS: i64 = 20;

pub async fn insert_method(tx: &mut Tx, m: &PaymentMethod) -> Result<(), ordo_db::Error> {
    tx.execute(
        &format!(
            "INSERT INTO payment_methods ({METHOD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ),
        params![
            m.id,
            m.user_id,
            m.provider,
            m.token,
            m.brand,
            m.last4,
            m.exp_month,
            m.exp_year,
            m.created_at,
        ],
    )
    .await
    .map(drop)
}

/// A page of the user's cards, newest first.
pub async fn methods(
    db: &Db,
    user_id: Uuid,
    page: PageRequest,
) -> Result<Page<PaymentMethod>, ordo_db::Error> {
    let rows: Vec<MethodRow> = db
        .fetch_all(
            &format!(
                "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE user_id = $1 AND deleted_at IS NULL
                 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
            ),
            params![user_id, page.after.map(|cursor| cursor.0), page.fetch_limit()],
        )
        .await?;
    let rows = rows.into_iter().map(PaymentMethod::from).collect();
    Ok(Page::from_rows(rows, page, |m| m.id))
}

/// How many cards the user keeps.
pub async fn count_methods(db: &Db, user_id: Uuid) -> Result<i64, ordo_db::Error> {
    let (n,) = db
        .fetch_one(
            "SELECT COUNT(*) AS n FROM payment_methods WHERE user_id = $1 AND deleted_at IS NULL",
            params![user_id],
        )
        .await?;
    Ok(n)
}

/// The user's card, if it is theirs and not removed.
pub async fn method_of(
    db: &Db,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<PaymentMethod>, ordo_db::Error> {
    let row: Option<MethodRow> = db
        .fetch_optional(
            &format!(
                "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL"
            ),
            params![id, user_id],
        )
        .await?;
    Ok(row.map(PaymentMethod::from))
}

pub async fn remove_method(
    tx: &mut Tx,
    user_id: Uuid,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<bool, ordo_db::Error> {
    let changed = tx
        .execute(
            "UPDATE payment_methods SET deleted_at = $3 WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
            params![id, user_id, at],
        )
        .await?;
    Ok(changed == 1)
}

/// Records the order's payment; false when it has one already.
pub async fn insert_payment(tx: &mut Tx, p: &Payment) -> Result<bool, ordo_db::Error> {
    let changed = tx
        .execute(
            "INSERT INTO payments (id, order_id, customer_id, payment_method_id, provider, provider_ref, status, amount, currency, failure_reason, attempt, created_at, updated_at, answered_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12)
             ON CONFLICT (order_id) DO NOTHING",
            params![
                p.id,
                p.order_id,
                p.customer_id,
                p.payment_method_id,
                p.provider,
                p.provider_ref,
                p.status,
                p.amount,
                p.currency,
                p.failure_reason,
                p.attempt,
                p.created_at,
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// Records the answer to a later attempt over the order's declined payment: the card
/// tried, and whether it holds the money now. False when the payment is not declined or
/// has recorded this attempt (or a later one) already.
pub async fn record_attempt(
    tx: &mut Tx,
    p: &Payment,
    at: OffsetDateTime,
) -> Result<bool, ordo_db::Error> {
    let changed = tx
        .execute(
            "UPDATE payments SET payment_method_id = $2, provider_ref = $3, status = $4, amount = $5, currency = $6,
                    failure_reason = $7, attempt = $8, updated_at = $9, answered_at = $9
             WHERE order_id = $1 AND status = 'failed' AND attempt < $8",
            params![
                p.order_id,
                p.payment_method_id,
                p.provider_ref,
                p.status,
                p.amount,
                p.currency,
                p.failure_reason,
                p.attempt,
                at,
            ],
        )
        .await?;
    Ok(changed == 1)
}

#[derive(FromRow)]
struct PaymentRow {
    id: Uuid,
    order_id: Uuid,
    customer_id: Uuid,
    payment_method_id: Option<Uuid>,
    provider: String,
    provider_ref: Option<String>,
    status: PaymentStatus,
    amount: i64,
    currency: String,
    failure_reason: Option<String>,
    captured_amount: i64,
    refunded_amount: i64,
    attempt: i64,
    created_at: OffsetDateTime,
}

impl From<PaymentRow> for Payment {
    fn from(row: PaymentRow) -> Self {
        Payment {
            id: row.id,
            order_id: row.order_id,
            customer_id: row.customer_id,
            payment_method_id: row.payment_method_id,
            provider: row.provider,
            provider_ref: row.provider_ref,
            status: row.status,
            amount: row.amount,
            currency: row.currency,
            failure_reason: row.failure_reason,
            captured_amount: row.captured_amount,
            refunded_amount: row.refunded_amount,
            attempt: row.attempt,
            created_at: row.created_at,
        }
    }
}

pub async fn payment_of_order(
    mut db: impl Executor,
    order_id: Uuid,
) -> Result<Option<Payment>, ordo_db::Error> {
    let row: Option<PaymentRow> = db
        .fetch_optional(
            "SELECT id, order_id, customer_id, payment_method_id, provider, provider_ref, status, amount, currency, failure_reason,
                    captured_amount, refunded_amount, attempt, created_at
             FROM payments WHERE order_id = $1",
            params![order_id],
        )
        .await?;
    Ok(row.map(Payment::from))
}

/// Moves the order's payment from `from` to `to`, in the trace of `traceparent`; false
/// when it was not in `from`.
pub async fn transition(
    tx: &mut Tx,
    order_id: Uuid,
    from: PaymentStatus,
    to: PaymentStatus,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, ordo_db::Error> {
    let mut update =
        StatusMove::new("payments", "order_id", order_id, from, to).set("updated_at", at);
    if matches!(
        to,
        PaymentStatus::Captured | PaymentStatus::Voided | PaymentStatus::CaptureFailed
    ) {
        update = update
            .set("settled_at", at)
            .set("settled_traceparent", traceparent);
    }
    update.run(tx).await
}

/// Records the capture of the whole authorised amount, in the trace of `traceparent`.
pub async fn captured(
    tx: &mut Tx,
    order_id: Uuid,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, ordo_db::Error> {
    let changed = tx
        .execute(
            "UPDATE payments SET status = 'captured', captured_amount = amount, updated_at = $2, settled_at = $2,
                    settled_traceparent = $3
             WHERE order_id = $1 AND status = 'authorized'",
            params![order_id, at, traceparent],
        )
        .await?;
    Ok(changed == 1)
}

/// A refund to record: who made it, when and in which trace (a W3C traceparent).
#[derive(Debug, Clone, Copy)]
pub struct NewRefund<'a> {
    pub id: Uuid,
    pub amount: i64,
    pub by: Uuid,
    pub status: RefundStatus,
    pub at: OffsetDateTime,
    pub traceparent: Option<&'a str>,
}

/// Adds a refund if it keeps the refunds within the capture, and returns what is refunded
/// now in all; `None` when it would pass the capture. A pending refund counts against the
/// capture at once, so two can never both pass it.
pub async fn refund(
    tx: &mut Tx,
    payment_id: Uuid,
    refund: NewRefund<'_>,
) -> Result<Option<i64>, ordo_db::Error> {
    let NewRefund {
        id: refund_id,
        amount,
        by,
        status,
        at,
        traceparent,
    } = refund;
    let Some((refunded_total,)) = tx
        .fetch_optional::<(i64,)>(
            "UPDATE payments SET refunded_amount = refunded_amount + $2, updated_at = $3
             WHERE id = $1 AND status = 'captured' AND refunded_amount + $2 <= captured_amount
             RETURNING refunded_amount",
            params![payment_id, amount, at],
        )
        .await?
    else {
        return Ok(None);
    };
    tx.execute(
        "INSERT INTO refunds (id, payment_id, amount, created_by, status, created_at, traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![refund_id, payment_id, amount, by, status, at, traceparent],
    )
    .await?;
    Ok(Some(refunded_total))
}

/// Marks a pending refund made; false when it was settled before.
pub async fn settle_refund(tx: &mut Tx, refund_id: Uuid) -> Result<bool, ordo_db::Error> {
    let changed = tx
        .execute(
            "UPDATE refunds SET status = 'succeeded' WHERE id = $1 AND status = 'pending'",
            params![refund_id],
        )
        .await?;
    Ok(changed == 1)
}

/// The amount and status of one of the payment's refunds, if it is one.
pub async fn refund_of(
    tx: &mut Tx,
    payment_id: Uuid,
    refund_id: Uuid,
) -> Result<Option<(i64, RefundStatus)>, ordo_db::Error> {
    tx.fetch_optional(
        "SELECT amount, status FROM refunds WHERE id = $1 AND payment_id = $2",
        params![refund_id, payment_id],
    )
    .await
}

/// A refund reserved and not yet confirmed by the provider.
#[derive(Debug, Clone, FromRow)]
pub struct PendingRefund {
    pub refund_id: Uuid,
    pub order_id: Uuid,
    pub amount: i64,
}

/// Refunds still pending that were reserved before `before`, oldest first.
pub async fn pending_refunds(
    db: &Db,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<PendingRefund>, ordo_db::Error> {
    db.fetch_all(
        "SELECT r.id AS refund_id, p.order_id, r.amount FROM refunds r JOIN payments p ON p.id = r.payment_id
         WHERE r.status = 'pending' AND r.created_at < $1 ORDER BY r.created_at LIMIT $2",
        params![before, limit],
    )
    .await
}

/// Remembers a provider's event; false when it was seen before.
pub async fn remember_provider_event(
    tx: &mut Tx,
    id: &str,
    provider: &str,
    kind: &str,
    at: OffsetDateTime,
) -> Result<bool, ordo_db::Error> {
    let changed = tx
        .execute(
            "INSERT INTO provider_events (id, provider, type, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
            params![id, provider, kind, at],
        )
        .await?;
    Ok(changed == 1)
}

/// The payment a provider's reference names.
pub async fn payment_by_reference(
    tx: &mut Tx,
    reference: &str,
) -> Result<Option<Payment>, ordo_db::Error> {
    let order: Option<(Uuid,)> = tx
        .fetch_optional(
            "SELECT order_id FROM payments WHERE provider_ref = $1",
            params![reference],
        )
        .await?;
    match order {
        Some((order,)) => payment_of_order(tx, order).await,
        None => Ok(None),
    }
}

const REQUEST_COLUMNS: &str = "order_id, action, customer_id, payment_method_id, amount, currency, attempt, traceparent, correlationid, attempts, not_before, created_at";

#[derive(FromRow)]
struct RequestRow {
    order_id: Uuid,
    action: RequestAction,
    customer_id: Option<Uuid>,
    payment_method_id: Option<Uuid>,
    amount: Option<i64>,
    currency: Option<String>,
    attempt: i64,
    traceparent: Option<String>,
    correlationid: Option<String>,
    attempts: i64,
    not_before: OffsetDateTime,
    created_at: OffsetDateTime,
}

impl From<RequestRow> for ProviderRequest {
    fn from(row: RequestRow) -> Self {
        let charge = match (row.customer_id, row.amount, row.currency) {
            (Some(customer_id), Some(amount), Some(currency)) => Some(Charge {
                customer_id,
                payment_method_id: row.payment_method_id,
                amount: Money { amount, currency },
                attempt: row.attempt,
            }),
            _ => None,
        };
        ProviderRequest {
            order_id: row.order_id,
            action: row.action,
            charge,
            traceparent: row.traceparent,
            correlationid: row.correlationid,
            attempts: row.attempts,
            not_before: row.not_before,
            created_at: row.created_at,
        }
    }
}

/// Records that the order ended before capture (the first end counts).
pub async fn record_end(
    tx: &mut Tx,
    order_id: Uuid,
    reason: &str,
    at: OffsetDateTime,
) -> Result<(), ordo_db::Error> {
    tx.execute(
        "INSERT INTO order_ends (order_id, reason, ended_at) VALUES ($1, $2, $3)
         ON CONFLICT (order_id) DO NOTHING",
        params![order_id, reason, at],
    )
    .await
    .map(drop)
}

/// Whether the order ended before capture, as far as payments was told.
pub async fn has_ended(mut db: impl Executor, order_id: Uuid) -> Result<bool, ordo_db::Error> {
    let row: Option<(i64,)> = db
        .fetch_optional(
            "SELECT 1 FROM order_ends WHERE order_id = $1",
            params![order_id],
        )
        .await?;
    Ok(row.is_some())
}

/// Records a request to the provider; false when the order has that request already.
pub async fn insert_request(tx: &mut Tx, r: &ProviderRequest) -> Result<bool, ordo_db::Error> {
    let charge = r.charge.as_ref();
    let changed = tx
        .execute(
            &format!(
                "INSERT INTO provider_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (order_id, action) DO NOTHING"
            ),
            params![
                r.order_id,
                r.action,
                charge.map(|c| c.customer_id),
                charge.and_then(|c| c.payment_method_id),
                charge.map(|c| c.amount.amount),
                charge.map(|c| &c.amount.currency),
                charge.map_or(1, |c| c.attempt),
                r.traceparent,
                r.correlationid,
                r.attempts,
                r.not_before,
                r.created_at,
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// Requests due at `now`, oldest first.
pub async fn due_requests(
    db: &Db,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ProviderRequest>, ordo_db::Error> {
    let rows: Vec<RequestRow> = db
        .fetch_all(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM provider_requests WHERE not_before <= $1 ORDER BY not_before LIMIT $2"
            ),
            params![now, limit],
        )
        .await?;
    Ok(rows.into_iter().map(ProviderRequest::from).collect())
}

/// Whether the order's `action` is still to be asked of the provider.
pub async fn has_request(
    db: &Db,
    order_id: Uuid,
    action: RequestAction,
) -> Result<bool, ordo_db::Error> {
    let row: Option<(i64,)> = db
        .fetch_optional(
            "SELECT 1 FROM provider_requests WHERE order_id = $1 AND action = $2",
            params![order_id, action],
        )
        .await?;
    Ok(row.is_some())
}

/// The request is answered.
pub async fn delete_request(
    tx: &mut Tx,
    order_id: Uuid,
    action: RequestAction,
) -> Result<(), ordo_db::Error> {
    tx.execute(
        "DELETE FROM provider_requests WHERE order_id = $1 AND action = $2",
        params![order_id, action],
    )
    .await
    .map(drop)
}

/// The provider could not answer: ask again at `not_before`.
pub async fn postpone_request(
    tx: &mut Tx,
    order_id: Uuid,
    action: RequestAction,
    attempts: i64,
    not_before: OffsetDateTime,
) -> Result<(), ordo_db::Error> {
    tx.execute(
        "UPDATE provider_requests SET attempts = $3, not_before = $4 WHERE order_id = $1 AND action = $2",
        params![order_id, action, attempts, not_before],
    )
    .await
    .map(drop)
}
