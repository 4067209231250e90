use super::required;
use crate::domain::{
    Fulfilment, HistoryEntry, IdQuery, Order, OrderSearch, PaymentState, PricedLine, Shipment,
    Status,
};
use ordo_db::{
    Batch, Db, Dialect, Encode, Error, Executor, FromRow, Json, StatusMove, Tx, Value, params, sql,
};
use ordo_kernel::PostalAddress;
use time::OffsetDateTime;
use uuid::Uuid;

ordo_db::text_value!(Status, Fulfilment);

const COLUMNS: &str = "id, customer_id, merchant_id, status, fulfilment, address, payment_method_id, currency, subtotal, tip, total, notes, created_at, updated_at, courier_id, shipment_id, carrier, tracking_number, payment_failure, payment_retry_until, payment_attempts, from_cart";

/// An order row (`COLUMNS`), without its lines.
#[derive(FromRow)]
struct OrderRow {
    id: Uuid,
    customer_id: Uuid,
    merchant_id: Uuid,
    status: Status,
    fulfilment: Fulfilment,
    address: Option<Json<PostalAddress>>,
    payment_method_id: Option<Uuid>,
    currency: String,
    subtotal: i64,
    tip: i64,
    total: i64,
    notes: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    courier_id: Option<Uuid>,
    shipment_id: Option<Uuid>,
    carrier: Option<String>,
    tracking_number: Option<String>,
    payment_failure: Option<String>,
    payment_retry_until: Option<OffsetDateTime>,
    payment_attempts: i64,
    from_cart: bool,
}

impl TryFrom<OrderRow> for Order {
    type Error = Error;

    fn try_from(row: OrderRow) -> Result<Self, Error> {
        let shipment = match row.shipment_id {
            Some(id) => Some(Shipment {
                id,
                carrier: required(row.carrier, "carrier")?,
                tracking_number: required(row.tracking_number, "tracking_number")?,
            }),
            None => None,
        };
        Ok(Order {
            id: row.id,
            customer_id: row.customer_id,
            merchant_id: row.merchant_id,
            status: row.status,
            fulfilment: row.fulfilment,
            address: row.address.map(|Json(address)| address),
            payment_method_id: row.payment_method_id,
            currency: row.currency,
            lines: Vec::new(),
            subtotal: row.subtotal,
            tip: row.tip,
            total: row.total,
            notes: row.notes,
            created_at: row.created_at,
            updated_at: row.updated_at,
            courier_id: row.courier_id,
            shipment,
            payment: PaymentState {
                failure: row.payment_failure,
                retry_until: row.payment_retry_until,
                attempts: row.payment_attempts,
            },
            from_cart: row.from_cart,
        })
    }
}

/// Orders from their rows, without lines.
fn orders(rows: Vec<OrderRow>) -> Result<Vec<Order>, Error> {
    rows.into_iter().map(Order::try_from).collect()
}

#[derive(FromRow)]
struct LineRow {
    product_id: Uuid,
    name: String,
    unit_price: i64,
    quantity: i64,
}

impl From<LineRow> for PricedLine {
    fn from(row: LineRow) -> Self {
        PricedLine {
            product_id: row.product_id,
            name: row.name,
            unit_price: row.unit_price,
            quantity: row.quantity,
        }
    }
}

#[derive(FromRow)]
struct HistoryRow {
    id: Uuid,
    order_id: Uuid,
    from_status: Option<Status>,
    to_status: Status,
    actor: String,
    actor_id: Option<Uuid>,
    cause: String,
    at: OffsetDateTime,
    trace_id: Option<String>,
}

impl From<HistoryRow> for HistoryEntry {
    fn from(row: HistoryRow) -> Self {
        HistoryEntry {
            id: row.id,
            order_id: row.order_id,
            from: row.from_status,
            to: row.to_status,
            actor: row.actor,
            actor_id: row.actor_id,
            cause: row.cause,
            at: row.at,
            trace_id: row.trace_id,
        }
    }
}

/// Columns of an order line as inserted.
const LINE_COLUMNS: usize = 6;

/// Adds the order with its lines to `batch`.
pub fn insert(batch: &mut Batch, order: &Order) {
    let shipment = order.shipment.as_ref();
    batch.execute(
        format!(
            "INSERT INTO orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        ),
        params![
            order.id,
            order.customer_id,
            order.merchant_id,
            order.status,
            order.fulfilment,
            order.address.as_ref().map(Json),
            order.payment_method_id,
            order.currency,
            order.subtotal,
            order.tip,
            order.total,
            order.notes,
            order.created_at,
            order.updated_at,
            order.courier_id,
            shipment.map(|s| s.id),
            shipment.map(|s| s.carrier.as_str()),
            shipment.map(|s| s.tracking_number.as_str()),
            order.payment.failure,
            order.payment.retry_until,
            order.payment.attempts,
            order.from_cart,
        ],
    );
    if order.lines.is_empty() {
        return;
    }
    // One statement for all the lines: a checkout holds at most MAX_ITEMS of them.
    let sql = format!(
        "INSERT INTO order_lines (order_id, line_no, product_id, name, unit_price, quantity)
         VALUES {}",
        sql::rows(order.lines.len(), LINE_COLUMNS)
    );
    let mut params: Vec<Value> = Vec::with_capacity(order.lines.len() * LINE_COLUMNS);
    for (n, line) in order.lines.iter().enumerate() {
        params.extend([
            order.id.encode(),
            n.encode(),
            line.product_id.encode(),
            line.name.encode(),
            line.unit_price.encode(),
            line.quantity.encode(),
        ]);
    }
    batch.execute(sql, &params);
}

/// The order with its lines.
pub async fn find(mut db: impl Executor, id: Uuid) -> Result<Option<Order>, Error> {
    let found: Option<OrderRow> = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM orders WHERE id = $1"),
            params![id],
        )
        .await?;
    let Some(row) = found else { return Ok(None) };
    let mut order = Order::try_from(row)?;
    let lines: Vec<LineRow> = db
        .fetch_all(
            "SELECT product_id, name, unit_price, quantity FROM order_lines WHERE order_id = $1 ORDER BY line_no",
            params![id],
        )
        .await?;
    order.lines = lines.into_iter().map(PricedLine::from).collect();
    Ok(Some(order))
}

/// Orders newest first, of one customer or of everyone; without lines.
pub async fn page(
    db: &Db,
    customer_id: Option<Uuid>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Order>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM orders WHERE ($1 IS NULL OR customer_id = $1) AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    );
    orders(
        db.fetch_all(&sql, params![customer_id, before, fetch])
            .await?,
    )
}

/// Moves the order from `from` to `to` if it is still in `from`. False when it moved
/// meanwhile: the caller then changes nothing.
pub async fn transition(
    tx: &mut Tx,
    id: Uuid,
    from: Status,
    to: Status,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    StatusMove::new("orders", "id", id, from, to)
        .set("updated_at", at)
        .run(tx)
        .await
}

/// Adds the history entry to `batch`.
pub fn record(batch: &mut Batch, entry: &HistoryEntry) {
    batch.execute(
        "INSERT INTO order_history (id, order_id, from_status, to_status, actor, actor_id, cause, at, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        params![
            entry.id,
            entry.order_id,
            entry.from,
            entry.to,
            entry.actor,
            entry.actor_id,
            entry.cause,
            entry.at,
            entry.trace_id,
        ],
    );
}

pub async fn history(db: &Db, order_id: Uuid) -> Result<Vec<HistoryEntry>, Error> {
    let rows: Vec<HistoryRow> = db
        .fetch_all(
            "SELECT id, order_id, from_status, to_status, actor, actor_id, cause, at, trace_id FROM order_history
             WHERE order_id = $1 ORDER BY id",
            params![order_id],
        )
        .await?;
    Ok(rows.into_iter().map(HistoryEntry::from).collect())
}

/// A merchant's orders newest first, optionally in one status; without lines.
pub async fn of_merchant(
    db: &Db,
    merchant_id: Uuid,
    status: Option<Status>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Order>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM orders WHERE merchant_id = $1 AND ($2 IS NULL OR status = $2)
         AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    );
    orders(
        db.fetch_all(&sql, params![merchant_id, status, before, fetch])
            .await?,
    )
}

/// Records the courier who took the order; false when it had one already.
pub async fn set_courier(tx: &mut Tx, id: Uuid, courier_id: Uuid) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE orders SET courier_id = $2 WHERE id = $1 AND courier_id IS NULL",
            params![id, courier_id],
        )
        .await?;
    Ok(changed == 1)
}

/// The orders not yet at an end, counted by status, each with when its longest-waiting
/// order entered it (`updated_at` is the last transition's time).
pub async fn open_counts(db: &Db) -> Result<Vec<(Status, i64, OffsetDateTime)>, Error> {
    db.fetch_all(
        "SELECT status, COUNT(*) AS n, MIN(updated_at) AS oldest FROM orders
         WHERE status IN ('pending_payment', 'payment_failed', 'paid', 'accepted', 'ready', 'picked_up', 'shipped')
         GROUP BY status",
        params![],
    )
    .await
}

/// Paid orders that have waited for their merchant since before `before`, longest first.
pub async fn awaiting_merchant(
    db: &Db,
    before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Uuid>, Error> {
    due(
        db,
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
pub async fn oldest_awaiting_merchant(db: &Db) -> Result<Option<OffsetDateTime>, Error> {
    let (oldest,) = db
        .fetch_one(
            "SELECT MIN(updated_at) AS oldest FROM orders WHERE status = 'paid'",
            params![],
        )
        .await?;
    Ok(oldest)
}

/// The ids of the orders a sweep's `query` selects as due at `at` (`$1`), at most `limit`
/// (`$2`).
async fn due(db: &Db, query: &str, at: OffsetDateTime, limit: i64) -> Result<Vec<Uuid>, Error> {
    let ids: Vec<(Uuid,)> = db.fetch_all(query, params![at, limit]).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Records why a pending order's payment was declined, in words for its customer, and
/// until when another card may be tried (kept from the first decline). False when the
/// order is not pending payment.
pub async fn payment_declined(
    tx: &mut Tx,
    id: Uuid,
    failure: &str,
    retry_until: OffsetDateTime,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE orders SET payment_failure = $2, payment_retry_until = COALESCE(payment_retry_until, $3)
             WHERE id = $1 AND status = 'pending_payment'",
            params![id, failure, retry_until],
        )
        .await?;
    Ok(changed == 1)
}

/// Records the card a declined order is tried with next, counting the authorisation and
/// forgetting the last failure. False when the order is not declined (any more).
pub async fn payment_retried(
    tx: &mut Tx,
    id: Uuid,
    payment_method_id: Uuid,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE orders SET payment_method_id = $2, payment_attempts = payment_attempts + 1, payment_failure = NULL
             WHERE id = $1 AND status = 'payment_failed'",
            params![id, payment_method_id],
        )
        .await?;
    Ok(changed == 1)
}

/// Declined orders whose window to try another card closed by `now`, the earliest first.
pub async fn retry_window_closed(
    db: &Db,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Uuid>, Error> {
    due(
        db,
        "SELECT id FROM orders WHERE status = 'payment_failed' AND payment_retry_until <= $1
         ORDER BY payment_retry_until LIMIT $2",
        now,
        limit,
    )
    .await
}

/// Records the parcel the order goes out as (in the transaction that ships it).
pub async fn set_shipment(tx: &mut Tx, id: Uuid, shipment: &Shipment) -> Result<(), Error> {
    tx.execute(
        "UPDATE orders SET shipment_id = $2, carrier = $3, tracking_number = $4 WHERE id = $1",
        params![id, shipment.id, shipment.carrier, shipment.tracking_number],
    )
    .await?;
    Ok(())
}

/// The reference of the row's id (its last eight hex digits) as the `orders_reference`
/// index keeps it: of the id's text, which PostgreSQL has to make from its uuid.
fn reference_of_id(db: &Db) -> &'static str {
    match db.dialect() {
        Dialect::Sqlite => "substr(id, 29)",
        Dialect::Postgres => "substr(CAST(id AS TEXT), 29)",
    }
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
pub async fn search(
    db: &Db,
    search: &OrderSearch,
    named: Option<&Named>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Order>, Error> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM orders WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR merchant_id = $2)
         AND ($3 IS NULL OR created_at >= $3) AND ($4 IS NULL OR created_at <= $4) AND ($5 IS NULL OR id < $5)"
    );
    let mut params: Vec<Value> = vec![
        search.status.encode(),
        search.merchant_id.encode(),
        search.from.encode(),
        search.to.encode(),
        before.encode(),
        fetch.encode(),
    ];
    if let Some(named) = named {
        let mut any: Vec<String> = Vec::new();
        let next = |params: &mut Vec<Value>, value: Value| {
            params.push(value);
            format!("${}", params.len())
        };
        if let Some(id) = &named.id {
            let (from, until) = (
                next(&mut params, id.from.encode()),
                next(&mut params, id.until.encode()),
            );
            any.push(format!(
                "(id >= {from} AND ({until} IS NULL OR id < {until}))"
            ));
            if let Some(reference) = &id.reference {
                let reference = next(&mut params, reference.encode());
                any.push(format!("{} = {reference}", reference_of_id(db)));
            }
        }
        for (column, ids) in [
            ("customer_id", &named.customers),
            ("merchant_id", &named.merchants),
        ] {
            if !ids.is_empty() {
                let list: Vec<String> = ids
                    .iter()
                    .map(|id| next(&mut params, id.encode()))
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
    orders(db.fetch_all(&sql, &params).await?)
}
