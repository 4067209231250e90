//! The reviews' tables: purchases learnt from the bus, reviews with their products, and
//! the published ratings.

#[cfg(test)]
mod tests;

use crate::domain::{Purchase, Review, Status};
use ordo_contracts::reviews::RatingSummary;
use ordo_db::sql::{placeholders, rows};
use ordo_db::{Db, Encode, Error, Executor, FromRow, Json, StatusMove, Tx, Value, params};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

ordo_db::text_value!(Status);

/// Records an order when it is placed; again is nothing.
pub async fn record_purchase(tx: &mut Tx, purchase: &Purchase) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO purchases (order_id, customer_id, merchant_id, product_ids)
         VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING",
        params![
            purchase.order_id,
            purchase.customer_id,
            purchase.merchant_id,
            Json(&purchase.product_ids),
        ],
    )
    .await
    .map(drop)
}

/// Marks an order completed: its customer may review it now.
pub async fn complete_purchase(
    tx: &mut Tx,
    order_id: Uuid,
    at: OffsetDateTime,
) -> Result<(), Error> {
    tx.execute(
        "UPDATE purchases SET completed_at = $2 WHERE order_id = $1 AND completed_at IS NULL",
        params![order_id, at],
    )
    .await
    .map(drop)
}

#[derive(FromRow)]
struct PurchaseRow {
    order_id: Uuid,
    customer_id: Uuid,
    merchant_id: Uuid,
    product_ids: Json<Vec<Uuid>>,
    completed_at: Option<OffsetDateTime>,
}

impl From<PurchaseRow> for Purchase {
    fn from(row: PurchaseRow) -> Self {
        Purchase {
            order_id: row.order_id,
            customer_id: row.customer_id,
            merchant_id: row.merchant_id,
            product_ids: row.product_ids.0,
            completed: row.completed_at.is_some(),
        }
    }
}

pub async fn purchase(db: &Db, order_id: Uuid) -> Result<Option<Purchase>, Error> {
    let row: Option<PurchaseRow> = db
        .fetch_optional(
            "SELECT order_id, customer_id, merchant_id, product_ids, completed_at
             FROM purchases WHERE order_id = $1",
            params![order_id],
        )
        .await?;
    Ok(row.map(Purchase::from))
}

/// Writes a new review with its products. False when the order has one already (nothing
/// is written).
pub async fn insert(tx: &mut Tx, review: &Review) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "INSERT INTO reviews (id, order_id, customer_id, merchant_id, rating, comment, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_id) DO NOTHING",
            params![
                review.id,
                review.order_id,
                review.customer_id,
                review.merchant_id,
                review.rating,
                review.comment,
                review.status,
                review.created_at,
            ],
        )
        .await?;
    if changed == 0 {
        return Ok(false);
    }
    if !review.product_ids.is_empty() {
        let sql = format!(
            "INSERT INTO review_products (product_id, review_id) VALUES {}",
            rows(review.product_ids.len(), 2)
        );
        let mut params = Vec::with_capacity(review.product_ids.len() * 2);
        for product in &review.product_ids {
            params.extend([product.encode(), review.id.encode()]);
        }
        tx.execute(&sql, &params).await?;
    }
    Ok(true)
}

const COLUMNS: &str = "id, order_id, customer_id, merchant_id, rating, comment, status, answer, answered_at, created_at";

#[derive(FromRow)]
struct ReviewRow {
    id: Uuid,
    order_id: Uuid,
    customer_id: Uuid,
    merchant_id: Uuid,
    rating: i64,
    comment: Option<String>,
    status: Status,
    answer: Option<String>,
    answered_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

impl ReviewRow {
    fn review(self, product_ids: Vec<Uuid>) -> Review {
        Review {
            id: self.id,
            order_id: self.order_id,
            customer_id: self.customer_id,
            merchant_id: self.merchant_id,
            product_ids,
            rating: self.rating,
            comment: self.comment,
            status: self.status,
            answer: self.answer,
            answered_at: self.answered_at,
            created_at: self.created_at,
        }
    }
}

/// The products of these reviews, by review.
async fn products_of(
    db: &mut impl Executor,
    reviews: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, Error> {
    let mut products: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if reviews.is_empty() {
        return Ok(products);
    }
    let sql = format!(
        "SELECT review_id, product_id FROM review_products WHERE review_id IN ({})
         ORDER BY product_id",
        placeholders(1, reviews.len())
    );
    let params: Vec<Value> = reviews.iter().map(Encode::encode).collect();
    for (review, product) in db.fetch_all::<(Uuid, Uuid)>(&sql, &params).await? {
        products.entry(review).or_default().push(product);
    }
    Ok(products)
}

async fn with_products(db: &mut impl Executor, rows: Vec<ReviewRow>) -> Result<Vec<Review>, Error> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut products = products_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let product_ids = products.remove(&row.id).unwrap_or_default();
            row.review(product_ids)
        })
        .collect())
}

pub async fn find(mut db: impl Executor, id: Uuid) -> Result<Option<Review>, Error> {
    let row: Option<ReviewRow> = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM reviews WHERE id = $1"),
            params![id],
        )
        .await?;
    match row {
        Some(row) => Ok(with_products(&mut db, vec![row]).await?.pop()),
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
    mut db: &Db,
    filter: Filter,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Review>, Error> {
    let (condition, value) = match filter {
        Filter::Status(status) => ("status = $1", status.encode()),
        Filter::Merchant(id) => ("merchant_id = $1 AND status = 'approved'", id.encode()),
        Filter::Product(id) => (
            "status = 'approved' AND id IN (SELECT review_id FROM review_products WHERE product_id = $1)",
            id.encode(),
        ),
    };
    let rows: Vec<ReviewRow> = db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM reviews WHERE {condition} AND ($2 IS NULL OR id < $2)
                 ORDER BY id DESC LIMIT $3"
            ),
            &[value, before.encode(), fetch.encode()],
        )
        .await?;
    with_products(&mut db, rows).await
}

/// Moves a pending review to `to`. False when it is not pending any more.
pub async fn decide(tx: &mut Tx, id: Uuid, to: Status, at: OffsetDateTime) -> Result<bool, Error> {
    StatusMove::new("reviews", "id", id, Status::Pending, to)
        .set("decided_at", at)
        .run(tx)
        .await
}

/// Stores the merchant's answer. False when the review has one already.
pub async fn answer(tx: &mut Tx, id: Uuid, text: &str, at: OffsetDateTime) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE reviews SET answer = $2, answered_at = $3 WHERE id = $1 AND answer IS NULL",
            params![id, text, at],
        )
        .await?;
    Ok(changed == 1)
}

/// What a rating is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Merchant(Uuid),
    Product(Uuid),
}

impl Subject {
    fn key(self) -> (&'static str, Uuid) {
        match self {
            Subject::Merchant(id) => ("merchant", id),
            Subject::Product(id) => ("product", id),
        }
    }
}

/// Counts a published `rating` for `subject`.
pub async fn count_rating(tx: &mut Tx, subject: Subject, rating: i64) -> Result<(), Error> {
    let (kind, id) = subject.key();
    tx.execute(
        "INSERT INTO ratings (kind, subject_id, count, total) VALUES ($1, $2, 1, $3)
         ON CONFLICT (kind, subject_id)
         DO UPDATE SET count = ratings.count + 1, total = ratings.total + excluded.total",
        params![kind, id, rating],
    )
    .await
    .map(drop)
}

pub async fn rating(mut db: impl Executor, subject: Subject) -> Result<RatingSummary, Error> {
    let (kind, id) = subject.key();
    let (count, total): (i64, i64) = db
        .fetch_optional(
            "SELECT count, total FROM ratings WHERE kind = $1 AND subject_id = $2",
            params![kind, id],
        )
        .await?
        .unwrap_or((0, 0));
    Ok(RatingSummary {
        average: if count == 0 {
            0.0
        } else {
            total as f64 / count as f64
        },
        count,
    })
}
