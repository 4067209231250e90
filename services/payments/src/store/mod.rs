//! The payments service's SQL, the same on SQLite and PostgreSQL.

use crate::domain::{
    Charge, Payment, PaymentMethod, PaymentStatus, ProviderRequest, RefundStatus, RequestAction,
};
use ordo_db::row::{self, millis};
use ordo_kernel::{Money, Page, PageRequest};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

pub mod timeline;

const METHOD_COLUMNS: &str =
    "id, user_id, provider, token, brand, last4, exp_month, exp_year, created_at";

fn method(row: &AnyRow) -> Result<PaymentMethod, sqlx::Error> {
    Ok(PaymentMethod {
        id: row::uuid(row, "id")?,
        user_id: row::uuid(row, "user_id")?,
        provider: row.try_get("provider")?,
        token: row.try_get("token")?,
        brand: row.try_get("brand")?,
        last4: row.try_get("last4")?,
        exp_month: row.try_get("exp_month")?,
        exp_year: row.try_get("exp_year")?,
        created_at: row::instant(row, "created_at")?,
    })
}

/// Most cards a customer may keep.
pub const MAX_METHODS: i64 = 20;

pub async fn insert_method<'c>(
    executor: impl Executor<'c, Database = Any>,
    m: &PaymentMethod,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO payment_methods ({METHOD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(m.id.to_string())
    .bind(m.user_id.to_string())
    .bind(&m.provider)
    .bind(&m.token)
    .bind(&m.brand)
    .bind(&m.last4)
    .bind(m.exp_month)
    .bind(m.exp_year)
    .bind(millis(m.created_at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// A page of the user's cards, newest first.
pub async fn methods<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
    page: PageRequest,
) -> Result<Page<PaymentMethod>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE user_id = $1 AND deleted_at IS NULL
         AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    ))
    .bind(user_id.to_string())
    .bind(page.after.map(|cursor| cursor.0.to_string()))
    .bind(page.fetch_limit())
    .fetch_all(executor)
    .await?
    .iter()
    .map(method)
    .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page, |m| m.id))
}

/// How many cards the user keeps.
pub async fn count_methods<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM payment_methods WHERE user_id = $1 AND deleted_at IS NULL",
    )
    .bind(user_id.to_string())
    .fetch_one(executor)
    .await?
    .try_get("n")
}

/// The user's card, if it is theirs and not removed.
pub async fn method_of<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<PaymentMethod>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL"
    ))
    .bind(id.to_string())
    .bind(user_id.to_string())
    .fetch_optional(executor)
    .await?
    .as_ref()
    .map(method)
    .transpose()
}

pub async fn remove_method<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE payment_methods SET deleted_at = $3 WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL")
        .bind(id.to_string())
        .bind(user_id.to_string())
        .bind(millis(at))
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the order's payment; false when it has one already.
pub async fn insert_payment<'c>(
    executor: impl Executor<'c, Database = Any>,
    p: &Payment,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments (id, order_id, customer_id, payment_method_id, provider, provider_ref, status, amount, currency, failure_reason, attempt, created_at, updated_at, answered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(p.id.to_string())
    .bind(p.order_id.to_string())
    .bind(p.customer_id.to_string())
    .bind(p.payment_method_id.map(|id| id.to_string()))
    .bind(&p.provider)
    .bind(p.provider_ref.as_deref())
    .bind(p.status.as_str())
    .bind(p.amount)
    .bind(&p.currency)
    .bind(p.failure_reason.as_deref())
    .bind(p.attempt)
    .bind(millis(p.created_at))
    .execute(executor)
    .await
    .map(|done| done.rows_affected() == 1)
}

/// Records the answer to a later attempt over the order's declined payment: the card
/// tried, and whether it holds the money now. False when the payment is not declined or
/// has recorded this attempt (or a later one) already.
pub async fn record_attempt<'c>(
    executor: impl Executor<'c, Database = Any>,
    p: &Payment,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE payments SET payment_method_id = $2, provider_ref = $3, status = $4, amount = $5, currency = $6,
                failure_reason = $7, attempt = $8, updated_at = $9, answered_at = $9
         WHERE order_id = $1 AND status = 'failed' AND attempt < $8",
    )
    .bind(p.order_id.to_string())
    .bind(p.payment_method_id.map(|id| id.to_string()))
    .bind(p.provider_ref.as_deref())
    .bind(p.status.as_str())
    .bind(p.amount)
    .bind(&p.currency)
    .bind(p.failure_reason.as_deref())
    .bind(p.attempt)
    .bind(millis(at))
    .execute(executor)
    .await
    .map(|done| done.rows_affected() == 1)
}

pub async fn payment_of_order<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query(
        "SELECT id, order_id, customer_id, payment_method_id, provider, provider_ref, status, amount, currency, failure_reason,
                captured_amount, refunded_amount, attempt, created_at
         FROM payments WHERE order_id = $1",
    )
    .bind(order_id.to_string())
    .fetch_optional(executor)
    .await?
    .map(|row| {
        Ok(Payment {
            id: row::uuid(&row, "id")?,
            order_id: row::uuid(&row, "order_id")?,
            customer_id: row::uuid(&row, "customer_id")?,
            payment_method_id: row::opt_uuid(&row, "payment_method_id")?,
            provider: row.try_get("provider")?,
            provider_ref: row.try_get("provider_ref")?,
            status: row
                .try_get::<String, _>("status")?
                .parse()
                .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
            amount: row.try_get("amount")?,
            currency: row.try_get("currency")?,
            failure_reason: row.try_get("failure_reason")?,
            captured_amount: row.try_get("captured_amount")?,
            refunded_amount: row.try_get("refunded_amount")?,
            attempt: row.try_get("attempt")?,
            created_at: row::instant(&row, "created_at")?,
        })
    })
    .transpose()
}

/// Moves the order's payment from `from` to `to`, in the trace of `traceparent`; false
/// when it was not in `from`.
pub async fn transition<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    from: PaymentStatus,
    to: PaymentStatus,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payments SET status = $3, updated_at = $4,
                settled_at = CASE WHEN $3 IN ('captured', 'voided', 'capture_failed') THEN $4 ELSE settled_at END,
                settled_traceparent = CASE WHEN $3 IN ('captured', 'voided', 'capture_failed') THEN $5 ELSE settled_traceparent END
         WHERE order_id = $1 AND status = $2",
    )
    .bind(order_id.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the capture of the whole authorised amount, in the trace of `traceparent`.
pub async fn captured<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    at: OffsetDateTime,
    traceparent: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE payments SET status = 'captured', captured_amount = amount, updated_at = $2, settled_at = $2,
                settled_traceparent = $3
         WHERE order_id = $1 AND status = 'authorized'",
    )
    .bind(order_id.to_string())
    .bind(millis(at))
    .bind(traceparent)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
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
    conn: &mut AnyConnection,
    payment_id: Uuid,
    refund: NewRefund<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    let NewRefund {
        id: refund_id,
        amount,
        by,
        status,
        at,
        traceparent,
    } = refund;
    let Some(row) = sqlx::query(
        "UPDATE payments SET refunded_amount = refunded_amount + $2, updated_at = $3
         WHERE id = $1 AND status = 'captured' AND refunded_amount + $2 <= captured_amount
         RETURNING refunded_amount",
    )
    .bind(payment_id.to_string())
    .bind(amount)
    .bind(millis(at))
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let refunded_total: i64 = row.try_get("refunded_amount")?;
    sqlx::query("INSERT INTO refunds (id, payment_id, amount, created_by, status, created_at, traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(refund_id.to_string())
        .bind(payment_id.to_string())
        .bind(amount)
        .bind(by.to_string())
        .bind(status.as_str())
        .bind(millis(at))
        .bind(traceparent)
        .execute(conn)
        .await?;
    Ok(Some(refunded_total))
}

/// Marks a pending refund made; false when it was settled before.
pub async fn settle_refund<'c>(
    executor: impl Executor<'c, Database = Any>,
    refund_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE refunds SET status = 'succeeded' WHERE id = $1 AND status = 'pending'")
            .bind(refund_id.to_string())
            .execute(executor)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The amount and status of one of the payment's refunds, if it is one.
pub async fn refund_of<'c>(
    executor: impl Executor<'c, Database = Any>,
    payment_id: Uuid,
    refund_id: Uuid,
) -> Result<Option<(i64, RefundStatus)>, sqlx::Error> {
    sqlx::query("SELECT amount, status FROM refunds WHERE id = $1 AND payment_id = $2")
        .bind(refund_id.to_string())
        .bind(payment_id.to_string())
        .fetch_optional(executor)
        .await?
        .map(|row| {
            let status = row
                .try_get::<String, _>("status")?
                .parse()
                .map_err(|e: String| sqlx::Error::Decode(e.into()))?;
            Ok((row.try_get("amount")?, status))
        })
        .transpose()
}

/// A refund reserved and not yet confirmed by the provider.
#[derive(Debug, Clone)]
pub struct PendingRefund {
    pub refund_id: Uuid,
    pub order_id: Uuid,
    pub amount: i64,
}

/// Refunds still pending that were reserved before `before`, oldest first.
pub async fn pending_refunds<'c>(
    executor: impl Executor<'c, Database = Any>,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<PendingRefund>, sqlx::Error> {
    sqlx::query(
        "SELECT r.id, p.order_id, r.amount FROM refunds r JOIN payments p ON p.id = r.payment_id
         WHERE r.status = 'pending' AND r.created_at < $1 ORDER BY r.created_at LIMIT $2",
    )
    .bind(millis(before))
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(PendingRefund {
            refund_id: row::uuid(row, "id")?,
            order_id: row::uuid(row, "order_id")?,
            amount: row.try_get("amount")?,
        })
    })
    .collect()
}

/// Remembers a provider's event; false when it was seen before.
pub async fn remember_provider_event<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: &str,
    provider: &str,
    kind: &str,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO provider_events (id, provider, type, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(provider)
    .bind(kind)
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The payment a provider's reference names.
pub async fn payment_by_reference(
    conn: &mut AnyConnection,
    reference: &str,
) -> Result<Option<Payment>, sqlx::Error> {
    let order: Option<String> =
        sqlx::query("SELECT order_id FROM payments WHERE provider_ref = $1")
            .bind(reference)
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
    match order {
        Some(order) => {
            payment_of_order(
                conn,
                order
                    .parse()
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            )
            .await
        }
        None => Ok(None),
    }
}

const REQUEST_COLUMNS: &str = "order_id, action, customer_id, payment_method_id, amount, currency, attempt, traceparent, correlationid, attempts, not_before, created_at";

fn request(row: &AnyRow) -> Result<ProviderRequest, sqlx::Error> {
    let amount: Option<i64> = row.try_get("amount")?;
    let currency: Option<String> = row.try_get("currency")?;
    let charge = match (row::opt_uuid(row, "customer_id")?, amount, currency) {
        (Some(customer_id), Some(amount), Some(currency)) => Some(Charge {
            customer_id,
            payment_method_id: row::opt_uuid(row, "payment_method_id")?,
            amount: Money { amount, currency },
            attempt: row.try_get("attempt")?,
        }),
        _ => None,
    };
    Ok(ProviderRequest {
        order_id: row::uuid(row, "order_id")?,
        action: row
            .try_get::<String, _>("action")?
            .parse()
            .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
        charge,
        traceparent: row.try_get("traceparent")?,
        correlationid: row.try_get("correlationid")?,
        attempts: row.try_get("attempts")?,
        not_before: row::instant(row, "not_before")?,
        created_at: row::instant(row, "created_at")?,
    })
}

/// Records that the order ended before capture (the first end counts).
pub async fn record_end<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    reason: &str,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_ends (order_id, reason, ended_at) VALUES ($1, $2, $3)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id.to_string())
    .bind(reason)
    .bind(millis(at))
    .execute(executor)
    .await
    .map(drop)
}

/// Whether the order ended before capture, as far as payments was told.
pub async fn has_ended<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query("SELECT 1 FROM order_ends WHERE order_id = $1")
        .bind(order_id.to_string())
        .fetch_optional(executor)
        .await
        .map(|row| row.is_some())
}

/// Records a request to the provider; false when the order has that request already.
pub async fn insert_request<'c>(
    executor: impl Executor<'c, Database = Any>,
    r: &ProviderRequest,
) -> Result<bool, sqlx::Error> {
    let charge = r.charge.as_ref();
    sqlx::query(&format!(
        "INSERT INTO provider_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (order_id, action) DO NOTHING"
    ))
    .bind(r.order_id.to_string())
    .bind(r.action.as_str())
    .bind(charge.map(|c| c.customer_id.to_string()))
    .bind(charge.and_then(|c| c.payment_method_id).map(|id| id.to_string()))
    .bind(charge.map(|c| c.amount.amount))
    .bind(charge.map(|c| c.amount.currency.clone()))
    .bind(charge.map_or(1, |c| c.attempt))
    .bind(r.traceparent.as_deref())
    .bind(r.correlationid.as_deref())
    .bind(r.attempts)
    .bind(millis(r.not_before))
    .bind(millis(r.created_at))
    .execute(executor)
    .await
    .map(|done| done.rows_affected() == 1)
}

/// Requests due at `now`, oldest first.
pub async fn due_requests<'c>(
    executor: impl Executor<'c, Database = Any>,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<ProviderRequest>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM provider_requests WHERE not_before <= $1 ORDER BY not_before LIMIT $2"
    ))
    .bind(millis(now))
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(request)
    .collect()
}

/// Whether the order's `action` is still to be asked of the provider.
pub async fn has_request<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    action: RequestAction,
) -> Result<bool, sqlx::Error> {
    sqlx::query("SELECT 1 FROM provider_requests WHERE order_id = $1 AND action = $2")
        .bind(order_id.to_string())
        .bind(action.as_str())
        .fetch_optional(executor)
        .await
        .map(|row| row.is_some())
}

/// The request is answered.
pub async fn delete_request<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    action: RequestAction,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM provider_requests WHERE order_id = $1 AND action = $2")
        .bind(order_id.to_string())
        .bind(action.as_str())
        .execute(executor)
        .await
        .map(drop)
}

/// The provider could not answer: ask again at `not_before`.
pub async fn postpone_request<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    action: RequestAction,
    attempts: i64,
    not_before: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE provider_requests SET attempts = $3, not_before = $4 WHERE order_id = $1 AND action = $2",
    )
    .bind(order_id.to_string())
    .bind(action.as_str())
    .bind(attempts)
    .bind(millis(not_before))
    .execute(executor)
    .await
    .map(drop)
}
