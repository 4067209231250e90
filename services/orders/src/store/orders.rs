use crate::domain::{
    DeliveryAddress, Fulfilment, HistoryEntry, IdQuery, Order, OrderSearch, PaymentState,
    PricedLine, Shipment, Status,
};
use ordo_db::row::{self, millis};
use ordo_db::sql;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "id, customer_id, merchant_id, status, fulfilment, address, payment_method_id, currency, subtotal, tip, total, notes, created_at, updated_at, courier_id, shipment_id, carrier, tracking_number, payment_failure, payment_retry_until, payment_attempts, from_cart";

fn decode(message: impl Into<String>) -> sqlx::Error {
    sqlx::Error::Decode(message.into().into())
}

fn address_json(address: &DeliveryAddress) -> String {
    json!({
        "line1": address.line1, "line2": address.line2, "city": address.city,
        "postal_code": address.postal_code, "country": address.country,
        "lat": address.lat, "lon": address.lon,
    })
    .to_string()
}

fn address(text: &str) -> Result<DeliveryAddress, sqlx::Error> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| decode(e.to_string()))?;
    let field = |name: &str| {
        v[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| decode("malformed address"))
    };
    Ok(DeliveryAddress {
        line1: field("line1")?,
        line2: v["line2"].as_str().map(str::to_owned),
        city: field("city")?,
        postal_code: field("postal_code")?,
        country: field("country")?,
        lat: v["lat"]
            .as_f64()
            .ok_or_else(|| decode("malformed address"))?,
        lon: v["lon"]
            .as_f64()
            .ok_or_else(|| decode("malformed address"))?,
    })
}

/// An order row, without its lines.
fn order(row: &AnyRow) -> Result<Order, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let fulfilment: String = row.try_get("fulfilment")?;
    let address_text: Option<String> = row.try_get("address")?;
    Ok(Order {
        id: row::uuid(row, "id")?,
        customer_id: row::uuid(row, "customer_id")?,
        merchant_id: row::uuid(row, "merchant_id")?,
        status: status.parse().map_err(decode)?,
        fulfilment: Fulfilment::parse(&fulfilment).map_err(decode)?,
        address: address_text.as_deref().map(address).transpose()?,
        payment_method_id: row::opt_uuid(row, "payment_method_id")?,
        currency: row.try_get("currency")?,
        lines: Vec::new(),
        subtotal: row.try_get("subtotal")?,
        tip: row.try_get("tip")?,
        total: row.try_get("total")?,
        notes: row.try_get("notes")?,
        created_at: row::instant(row, "created_at")?,
        updated_at: row::instant(row, "updated_at")?,
        courier_id: row::opt_uuid(row, "courier_id")?,
        shipment: match row::opt_uuid(row, "shipment_id")? {
            Some(id) => Some(Shipment {
                id,
                carrier: row.try_get("carrier")?,
                tracking_number: row.try_get("tracking_number")?,
            }),
            None => None,
        },
        payment: PaymentState {
            failure: row.try_get("payment_failure")?,
            retry_until: row::opt_instant(row, "payment_retry_until")?,
            attempts: row.try_get("payment_attempts")?,
        },
        from_cart: row.try_get::<i64, _>("from_cart")? == 1,
    })
}

pub async fn insert(conn: &mut AnyConnection, order: &Order) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    ))
    .bind(order.id.to_string())
    .bind(order.customer_id.to_string())
    .bind(order.merchant_id.to_string())
    .bind(order.status.as_str())
    .bind(order.fulfilment.as_str())
    .bind(order.address.as_ref().map(address_json))
    .bind(order.payment_method_id.map(|id| id.to_string()))
    .bind(&order.currency)
    .bind(order.subtotal)
    .bind(order.tip)
    .bind(order.total)
    .bind(order.notes.as_deref())
    .bind(millis(order.created_at))
    .bind(millis(order.updated_at))
    .bind(order.courier_id.map(|c| c.to_string()))
    .bind(order.shipment.as_ref().map(|s| s.id.to_string()))
    .bind(order.shipment.as_ref().map(|s| s.carrier.clone()))
    .bind(order.shipment.as_ref().map(|s| s.tracking_number.clone()))
    .bind(order.payment.failure.as_deref())
    .bind(order.payment.retry_until.map(millis))
    .bind(order.payment.attempts)
    .bind(i64::from(order.from_cart))
    .execute(&mut *conn)
    .await?;
    if order.lines.is_empty() {
        return Ok(());
    }
    // One statement for all the lines: a checkout holds at most MAX_ITEMS of them.
    let sql = format!(
        "INSERT INTO order_lines (order_id, line_no, product_id, name, unit_price, quantity)
         VALUES {}",
        sql::rows(order.lines.len(), 6)
    );
    let mut lines = sqlx::query(&sql);
    for (n, line) in order.lines.iter().enumerate() {
        lines = lines
            .bind(order.id.to_string())
            .bind(i64::try_from(n).unwrap_or(i64::MAX))
            .bind(line.product_id.to_string())
            .bind(&line.name)
            .bind(line.unit_price)
            .bind(line.quantity);
    }
    lines.execute(&mut *conn).await?;
    Ok(())
}

/// The order with its lines.
pub async fn find(conn: &mut AnyConnection, id: Uuid) -> Result<Option<Order>, sqlx::Error> {
    let found = sqlx::query(&format!("SELECT {COLUMNS} FROM orders WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = found else { return Ok(None) };
    let mut order = order(&row)?;
    order.lines = sqlx::query(
        "SELECT product_id, name, unit_price, quantity FROM order_lines WHERE order_id = $1 ORDER BY line_no",
    )
    .bind(id.to_string())
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| {
        Ok(PricedLine {
            product_id: row::uuid(row, "product_id")?,
            name: row.try_get("name")?,
            unit_price: row.try_get("unit_price")?,
            quantity: row.try_get("quantity")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some(order))
}

/// Orders newest first, of one customer or of everyone; without lines.
pub async fn page<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer_id: Option<Uuid>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM orders WHERE ($1 IS NULL OR customer_id = $1) AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(customer_id.map(|id| id.to_string()))
    .bind(before.map(|id| id.to_string()))
    .bind(fetch)
    .fetch_all(executor)
    .await?
    .iter()
    .map(order)
    .collect()
}

/// Moves the order from `from` to `to` if it is still in `from`. False when it moved
/// meanwhile: the caller then changes nothing.
pub async fn transition<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    from: Status,
    to: Status,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE orders SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2")
            .bind(id.to_string())
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(millis(at))
            .execute(executor)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn record<'c>(
    executor: impl Executor<'c, Database = Any>,
    entry: &HistoryEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_history (id, order_id, from_status, to_status, actor, actor_id, cause, at, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entry.id.to_string())
    .bind(entry.order_id.to_string())
    .bind(entry.from.map(Status::as_str))
    .bind(entry.to.as_str())
    .bind(&entry.actor)
    .bind(entry.actor_id.map(|id| id.to_string()))
    .bind(&entry.cause)
    .bind(millis(entry.at))
    .bind(entry.trace_id.as_deref())
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn history<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    sqlx::query(
        "SELECT id, order_id, from_status, to_status, actor, actor_id, cause, at, trace_id FROM order_history
         WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        let from: Option<String> = row.try_get("from_status")?;
        let to: String = row.try_get("to_status")?;
        Ok(HistoryEntry {
            id: row::uuid(row, "id")?,
            order_id: row::uuid(row, "order_id")?,
            from: from.map(|s| s.parse().map_err(decode)).transpose()?,
            to: to.parse().map_err(decode)?,
            actor: row.try_get("actor")?,
            actor_id: row::opt_uuid(row, "actor_id")?,
            cause: row.try_get("cause")?,
            at: row::instant(row, "at")?,
            trace_id: row.try_get("trace_id")?,
        })
    })
    .collect()
}

/// A merchant's orders newest first, optionally in one status; without lines.
pub async fn of_merchant<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant_id: Uuid,
    status: Option<Status>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM orders WHERE merchant_id = $1 AND ($2 IS NULL OR status = $2)
         AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    ))
    .bind(merchant_id.to_string())
    .bind(status.map(Status::as_str))
    .bind(before.map(|id| id.to_string()))
    .bind(fetch)
    .fetch_all(executor)
    .await?
    .iter()
    .map(order)
    .collect()
}

/// Records the courier who took the order; false when it had one already.
pub async fn set_courier<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    courier_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE orders SET courier_id = $2 WHERE id = $1 AND courier_id IS NULL")
            .bind(id.to_string())
            .bind(courier_id.to_string())
            .execute(executor)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The orders not yet at an end, counted by status, each with when its longest-waiting
/// order entered it (`updated_at` is the last transition's time).
pub async fn open_counts<'c>(
    executor: impl Executor<'c, Database = Any>,
) -> Result<Vec<(Status, i64, OffsetDateTime)>, sqlx::Error> {
    sqlx::query(
        "SELECT status, COUNT(*) AS n, MIN(updated_at) AS oldest FROM orders
         WHERE status IN ('pending_payment', 'payment_failed', 'paid', 'accepted', 'ready', 'picked_up', 'shipped')
         GROUP BY status",
    )
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        let status: String = row.try_get("status")?;
        Ok((
            status.parse().map_err(decode)?,
            row.try_get("n")?,
            row::instant(row, "oldest")?,
        ))
    })
    .collect()
}

/// Paid orders that have waited for their merchant since before `before`, longest first.
pub async fn awaiting_merchant<'c>(
    executor: impl Executor<'c, Database = Any>,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    due(
        executor,
        "SELECT id FROM orders WHERE status = 'paid' AND updated_at <= $1
         ORDER BY updated_at LIMIT $2",
        before,
        limit,
    )
    .await
}

/// When the paid order waiting longest for its merchant was paid; `None` when none waits.
///
/// # Errors
/// The database failing.
pub async fn oldest_awaiting_merchant<'c>(
    executor: impl Executor<'c, Database = Any>,
) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    let found = sqlx::query("SELECT MIN(updated_at) AS oldest FROM orders WHERE status = 'paid'")
        .fetch_one(executor)
        .await?;
    row::opt_instant(&found, "oldest")
}

/// The ids of the orders a sweep's `query` selects as due at `at` (`$1`), at most `limit`
/// (`$2`).
async fn due<'c>(
    executor: impl Executor<'c, Database = Any>,
    query: &str,
    at: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query(query)
        .bind(millis(at))
        .bind(limit)
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| row::uuid(row, "id"))
        .collect()
}

/// Records why a pending order's payment was declined, in words for its customer, and
/// until when another card may be tried (kept from the first decline). False when the
/// order is not pending payment.
pub async fn payment_declined<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    failure: &str,
    retry_until: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET payment_failure = $2, payment_retry_until = COALESCE(payment_retry_until, $3)
         WHERE id = $1 AND status = 'pending_payment'",
    )
    .bind(id.to_string())
    .bind(failure)
    .bind(millis(retry_until))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the card a declined order is tried with next, counting the authorisation and
/// forgetting the last failure. False when the order is not declined (any more).
pub async fn payment_retried<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    payment_method_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET payment_method_id = $2, payment_attempts = payment_attempts + 1, payment_failure = NULL
         WHERE id = $1 AND status = 'payment_failed'",
    )
    .bind(id.to_string())
    .bind(payment_method_id.to_string())
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Declined orders whose window to try another card closed by `now`, the earliest first.
pub async fn retry_window_closed<'c>(
    executor: impl Executor<'c, Database = Any>,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    due(
        executor,
        "SELECT id FROM orders WHERE status = 'payment_failed' AND payment_retry_until <= $1
         ORDER BY payment_retry_until LIMIT $2",
        now,
        limit,
    )
    .await
}

/// Records the parcel the order goes out as (in the transaction that ships it).
pub async fn set_shipment<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    shipment: &Shipment,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET shipment_id = $2, carrier = $3, tracking_number = $4 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(shipment.id.to_string())
    .bind(&shipment.carrier)
    .bind(&shipment.tracking_number)
    .execute(executor)
    .await?;
    Ok(())
}

/// Whom a search text names, resolved before the orders are read: ids it may begin (or
/// end, as a reference), and the customers and merchants it names.
#[derive(Debug, Clone, Default)]
pub struct Named {
    pub id: Option<IdQuery>,
    pub customers: Vec<Uuid>,
    pub merchants: Vec<Uuid>,
}

/// Orders newest first matching every filter of `search` and, when `named` is given, one
/// of what it names; without lines.
pub async fn search<'c>(
    executor: impl Executor<'c, Database = Any>,
    search: &OrderSearch,
    named: Option<&Named>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM orders WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR merchant_id = $2)
         AND ($3 IS NULL OR created_at >= $3) AND ($4 IS NULL OR created_at <= $4) AND ($5 IS NULL OR id < $5)"
    );
    let mut texts: Vec<String> = Vec::new();
    if let Some(named) = named {
        let mut any: Vec<String> = Vec::new();
        let next = |texts: &mut Vec<String>, text: String| {
            texts.push(text);
            format!("${}", texts.len() + 6)
        };
        if let Some(id) = &named.id {
            let (from, until) = (
                next(&mut texts, id.from.clone()),
                next(&mut texts, id.until.clone()),
            );
            any.push(format!("(id >= {from} AND id < {until})"));
            if let Some(reference) = &id.reference {
                let reference = next(&mut texts, reference.clone());
                any.push(format!("substr(id, 29) = {reference}"));
            }
        }
        for (column, ids) in [
            ("customer_id", &named.customers),
            ("merchant_id", &named.merchants),
        ] {
            if !ids.is_empty() {
                let list: Vec<String> = ids
                    .iter()
                    .map(|id| next(&mut texts, id.to_string()))
                    .collect();
                any.push(format!("{column} IN ({})", list.join(", ")));
            }
        }
        if any.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    sql.push_str(" ORDER BY id DESC LIMIT $6");
    let mut query = sqlx::query(&sql)
        .bind(search.status.map(Status::as_str))
        .bind(search.merchant_id.map(|id| id.to_string()))
        .bind(search.from.map(millis))
        .bind(search.to.map(millis))
        .bind(before.map(|id| id.to_string()))
        .bind(fetch);
    for text in texts {
        query = query.bind(text);
    }
    query.fetch_all(executor).await?.iter().map(order).collect()
}
