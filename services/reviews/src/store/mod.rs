//! The reviews' tables: purchases learnt from the bus, reviews with their products, and
//! the published ratings.

use crate::domain::{Purchase, Review, Status};
use ordo_contracts::reviews::RatingSummary;
use ordo_db::row::{instant, millis, opt_instant, uuid};
use ordo_db::sql::placeholders;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Records an order when it is placed; again is nothing.
pub async fn record_purchase<'c>(
    executor: impl Executor<'c, Database = Any>,
    purchase: &Purchase,
) -> Result<(), sqlx::Error> {
    let products: Vec<String> = purchase.product_ids.iter().map(Uuid::to_string).collect();
    sqlx::query(
        "INSERT INTO purchases (order_id, customer_id, merchant_id, product_ids)
         VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(purchase.order_id.to_string())
    .bind(purchase.customer_id.to_string())
    .bind(purchase.merchant_id.to_string())
    .bind(serde_json::to_string(&products).unwrap_or_else(|_| "[]".into()))
    .execute(executor)
    .await
    .map(|_| ())
}

/// Marks an order completed: its customer may review it now.
pub async fn complete_purchase<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE purchases SET completed_at = $2 WHERE order_id = $1 AND completed_at IS NULL",
    )
    .bind(order_id.to_string())
    .bind(millis(at))
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn purchase<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<Purchase>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT order_id, customer_id, merchant_id, product_ids, completed_at
         FROM purchases WHERE order_id = $1",
    )
    .bind(order_id.to_string())
    .fetch_optional(executor)
    .await?;
    row.map(|row| {
        let products: String = row.try_get("product_ids")?;
        let product_ids: Vec<Uuid> =
            serde_json::from_str(&products).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok(Purchase {
            order_id: uuid(&row, "order_id")?,
            customer_id: uuid(&row, "customer_id")?,
            merchant_id: uuid(&row, "merchant_id")?,
            product_ids,
            completed: opt_instant(&row, "completed_at")?.is_some(),
        })
    })
    .transpose()
}

/// Writes a new review with its products. False when the order has one already (nothing
/// is written).
pub async fn insert(conn: &mut AnyConnection, review: &Review) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO reviews (id, order_id, customer_id, merchant_id, rating, comment, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(review.id.to_string())
    .bind(review.order_id.to_string())
    .bind(review.customer_id.to_string())
    .bind(review.merchant_id.to_string())
    .bind(review.rating)
    .bind(review.comment.clone())
    .bind(review.status.as_str())
    .bind(millis(review.created_at))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if !review.product_ids.is_empty() {
        let sql = format!(
            "INSERT INTO review_products (product_id, review_id) VALUES {}",
            ordo_db::sql::rows(review.product_ids.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for product in &review.product_ids {
            query = query.bind(product.to_string()).bind(review.id.to_string());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(true)
}

const COLUMNS: &str = "id, order_id, customer_id, merchant_id, rating, comment, status, answer, answered_at, created_at";

fn review(row: &AnyRow, product_ids: Vec<Uuid>) -> Result<Review, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Review {
        id: uuid(row, "id")?,
        order_id: uuid(row, "order_id")?,
        customer_id: uuid(row, "customer_id")?,
        merchant_id: uuid(row, "merchant_id")?,
        product_ids,
        rating: row.try_get("rating")?,
        comment: row.try_get("comment")?,
        status: Status::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("review status {status}").into()))?,
        answer: row.try_get("answer")?,
        answered_at: opt_instant(row, "answered_at")?,
        created_at: instant(row, "created_at")?,
    })
}

/// The products of these reviews, by review.
async fn products_of(
    conn: &mut AnyConnection,
    reviews: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, sqlx::Error> {
    let mut products: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if reviews.is_empty() {
        return Ok(products);
    }
    let sql = format!(
        "SELECT review_id, product_id FROM review_products WHERE review_id IN ({})
         ORDER BY product_id",
        placeholders(1, reviews.len())
    );
    let mut query = sqlx::query(&sql);
    for id in reviews {
        query = query.bind(id.to_string());
    }
    for row in query.fetch_all(conn).await? {
        products
            .entry(uuid(&row, "review_id")?)
            .or_default()
            .push(uuid(&row, "product_id")?);
    }
    Ok(products)
}

async fn with_products(
    conn: &mut AnyConnection,
    rows: &[AnyRow],
) -> Result<Vec<Review>, sqlx::Error> {
    let ids = rows
        .iter()
        .map(|row| uuid(row, "id"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut products = products_of(conn, &ids).await?;
    rows.iter()
        .zip(ids)
        .map(|(row, id)| review(row, products.remove(&id).unwrap_or_default()))
        .collect()
}

pub async fn find(conn: &mut AnyConnection, id: Uuid) -> Result<Option<Review>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM reviews WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(with_products(conn, &[row]).await?.pop()),
        None => Ok(None),
    }
}

/// Which reviews a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Status(Status),
    /// A merchant's approved reviews.
    Merchant(Uuid),
    /// A product's approved reviews.
    Product(Uuid),
}

/// Reviews newest first, before `before`, at most `fetch`.
pub async fn page(
    conn: &mut AnyConnection,
    filter: Filter,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Review>, sqlx::Error> {
    let (condition, value) = match filter {
        Filter::Status(status) => ("status = $1", status.as_str().to_owned()),
        Filter::Merchant(id) => ("merchant_id = $1 AND status = 'approved'", id.to_string()),
        Filter::Product(id) => (
            "status = 'approved' AND id IN (SELECT review_id FROM review_products WHERE product_id = $1)",
            id.to_string(),
        ),
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reviews WHERE {condition} AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(value)
    .bind(before.map(|id| id.to_string()))
    .bind(fetch)
    .fetch_all(&mut *conn)
    .await?;
    with_products(conn, &rows).await
}

/// Moves a pending review to `to`. False when it is not pending any more.
pub async fn decide<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    to: Status,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reviews SET status = $2, decided_at = $3 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id.to_string())
    .bind(to.as_str())
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the merchant's answer. False when the review has one already.
pub async fn answer<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    text: &str,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reviews SET answer = $2, answered_at = $3 WHERE id = $1 AND answer IS NULL",
    )
    .bind(id.to_string())
    .bind(text)
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a rating is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Merchant(Uuid),
    Product(Uuid),
}

impl Subject {
    fn key(self) -> (&'static str, String) {
        match self {
            Subject::Merchant(id) => ("merchant", id.to_string()),
            Subject::Product(id) => ("product", id.to_string()),
        }
    }
}

/// Counts a published `rating` for `subject`.
pub async fn count_rating<'c>(
    executor: impl Executor<'c, Database = Any>,
    subject: Subject,
    rating: i64,
) -> Result<(), sqlx::Error> {
    let (kind, id) = subject.key();
    sqlx::query(
        "INSERT INTO ratings (kind, subject_id, count, total) VALUES ($1, $2, 1, $3)
         ON CONFLICT (kind, subject_id)
         DO UPDATE SET count = ratings.count + 1, total = ratings.total + excluded.total",
    )
    .bind(kind)
    .bind(id)
    .bind(rating)
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn rating<'c>(
    executor: impl Executor<'c, Database = Any>,
    subject: Subject,
) -> Result<RatingSummary, sqlx::Error> {
    let (kind, id) = subject.key();
    let row = sqlx::query("SELECT count, total FROM ratings WHERE kind = $1 AND subject_id = $2")
        .bind(kind)
        .bind(id)
        .fetch_optional(executor)
        .await?;
    let (count, total): (i64, i64) = match row {
        Some(row) => (row.try_get("count")?, row.try_get("total")?),
        None => (0, 0),
    };
    Ok(RatingSummary {
        average: if count == 0 {
            0.0
        } else {
            total as f64 / count as f64
        },
        count,
    })
}
