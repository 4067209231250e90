//! Search's SQL: the catalogue, stock and ratings as events told them, and what the index
//! has yet to take. The tantivy index built from them is in [`index`].

pub mod index;

use ordo_contracts::catalog::{MerchantSnapshot, OpeningHours, ProductSnapshot};
use ordo_db::row::uuid;
use ordo_db::sql::placeholders;
use ordo_kernel::Money;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use uuid::Uuid;

/// A merchant as the index shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Merchant {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opening_hours: Vec<OpeningHours>,
    /// Mean published rating, 0 without reviews.
    pub rating: f64,
    pub rating_count: i64,
}

/// A product as the index shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Money,
    pub tags: Vec<String>,
    pub active: bool,
    /// Units available; `None` until inventory told (then none are).
    pub available: Option<i64>,
}

/// What changed: a merchant (with all its products) or a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Merchant(Uuid),
    Product(Uuid),
}

/// A change not yet in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub changed: Changed,
    token: String,
}

fn json_error(error: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}

pub async fn upsert_merchant(
    tx: &mut AnyConnection,
    merchant: &MerchantSnapshot,
) -> Result<(), sqlx::Error> {
    let hours = serde_json::to_string(&merchant.opening_hours).map_err(json_error)?;
    sqlx::query(
        "INSERT INTO merchants (id, name, kind, address, lat, lon, opening_hours)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
           address = excluded.address, lat = excluded.lat, lon = excluded.lon,
           opening_hours = excluded.opening_hours",
    )
    .bind(merchant.merchant_id.to_string())
    .bind(&merchant.name)
    .bind(&merchant.kind)
    .bind(&merchant.address)
    .bind(merchant.lat)
    .bind(merchant.lon)
    .bind(hours)
    .execute(&mut *tx)
    .await?;
    mark(tx, Changed::Merchant(merchant.merchant_id)).await
}

pub async fn upsert_product(
    tx: &mut AnyConnection,
    product: &ProductSnapshot,
) -> Result<(), sqlx::Error> {
    let tags = serde_json::to_string(&product.tags).map_err(json_error)?;
    sqlx::query(
        "INSERT INTO products
           (id, merchant_id, name, description, category, price_amount, currency, tags, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET merchant_id = excluded.merchant_id,
           name = excluded.name, description = excluded.description,
           category = excluded.category, price_amount = excluded.price_amount,
           currency = excluded.currency, tags = excluded.tags, active = excluded.active",
    )
    .bind(product.product_id.to_string())
    .bind(product.merchant_id.to_string())
    .bind(&product.name)
    .bind(&product.description)
    .bind(&product.category)
    .bind(product.price.amount)
    .bind(&product.price.currency)
    .bind(tags)
    .bind(i64::from(product.active))
    .execute(&mut *tx)
    .await?;
    // The merchant's document lists its categories.
    mark(tx, Changed::Merchant(product.merchant_id)).await
}

pub async fn delete_product(
    tx: &mut AnyConnection,
    product_id: Uuid,
    merchant_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM products WHERE id = $1")
        .bind(product_id.to_string())
        .execute(&mut *tx)
        .await?;
    mark(tx, Changed::Product(product_id)).await?;
    mark(tx, Changed::Merchant(merchant_id)).await
}

pub async fn set_stock(
    tx: &mut AnyConnection,
    product_id: Uuid,
    available: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stock (product_id, available) VALUES ($1, $2)
         ON CONFLICT (product_id) DO UPDATE SET available = excluded.available",
    )
    .bind(product_id.to_string())
    .bind(available)
    .execute(&mut *tx)
    .await?;
    mark(tx, Changed::Product(product_id)).await
}

pub async fn set_rating(
    tx: &mut AnyConnection,
    merchant_id: Uuid,
    average: f64,
    count: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ratings (merchant_id, average, count) VALUES ($1, $2, $3)
         ON CONFLICT (merchant_id) DO UPDATE SET average = excluded.average,
           count = excluded.count",
    )
    .bind(merchant_id.to_string())
    .bind(average)
    .bind(count)
    .execute(&mut *tx)
    .await?;
    mark(tx, Changed::Merchant(merchant_id)).await
}

async fn mark(tx: &mut AnyConnection, changed: Changed) -> Result<(), sqlx::Error> {
    let (id, what) = match changed {
        Changed::Merchant(id) => (id, "merchant"),
        Changed::Product(id) => (id, "product"),
    };
    sqlx::query(
        "INSERT INTO pending (id, what, token) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET what = excluded.what, token = excluded.token",
    )
    .bind(id.to_string())
    .bind(what)
    .bind(Uuid::new_v4().to_string())
    .execute(tx)
    .await
    .map(|_| ())
}

/// Up to `limit` changes the index has yet to take.
pub async fn pending<'c>(
    executor: impl Executor<'c, Database = Any>,
    limit: i64,
) -> Result<Vec<Pending>, sqlx::Error> {
    sqlx::query("SELECT id, what, token FROM pending ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| {
            let id = uuid(row, "id")?;
            let what: String = row.try_get("what")?;
            Ok(Pending {
                changed: if what == "merchant" {
                    Changed::Merchant(id)
                } else {
                    Changed::Product(id)
                },
                token: row.try_get("token")?,
            })
        })
        .collect()
}

/// Marks `done` as in the index, unless they changed again meanwhile.
pub async fn done(tx: &mut AnyConnection, done: &[Pending]) -> Result<(), sqlx::Error> {
    for pending in done {
        let id = match pending.changed {
            Changed::Merchant(id) | Changed::Product(id) => id,
        };
        sqlx::query("DELETE FROM pending WHERE id = $1 AND token = $2")
            .bind(id.to_string())
            .bind(&pending.token)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

const MERCHANT: &str = "SELECT m.id, m.name, m.kind, m.address, m.lat, m.lon, m.opening_hours,
       COALESCE(r.average, 0.0) AS rating, COALESCE(r.count, 0) AS rating_count
     FROM merchants m LEFT JOIN ratings r ON r.merchant_id = m.id";

fn merchant(row: &AnyRow) -> Result<Merchant, sqlx::Error> {
    let hours: String = row.try_get("opening_hours")?;
    Ok(Merchant {
        id: uuid(row, "id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        opening_hours: serde_json::from_str(&hours).map_err(json_error)?,
        rating: row.try_get("rating")?,
        rating_count: row.try_get("rating_count")?,
    })
}

const PRODUCT: &str = "SELECT p.id, p.merchant_id, p.name, p.description, p.category,
       p.price_amount, p.currency, p.tags, p.active, s.available
     FROM products p LEFT JOIN stock s ON s.product_id = p.id";

fn product(row: &AnyRow) -> Result<Product, sqlx::Error> {
    let tags: String = row.try_get("tags")?;
    Ok(Product {
        id: uuid(row, "id")?,
        merchant_id: uuid(row, "merchant_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        category: row.try_get("category")?,
        price: Money {
            amount: row.try_get("price_amount")?,
            currency: row.try_get("currency")?,
        },
        tags: serde_json::from_str(&tags).map_err(json_error)?,
        active: row.try_get::<i64, _>("active")? == 1,
        available: row.try_get("available")?,
    })
}

/// The merchants with these ids that search knows.
pub async fn merchants<'c>(
    executor: impl Executor<'c, Database = Any>,
    ids: &[Uuid],
) -> Result<Vec<Merchant>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{MERCHANT} WHERE m.id IN ({})", placeholders(1, ids.len()));
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id.to_string());
    }
    query
        .fetch_all(executor)
        .await?
        .iter()
        .map(merchant)
        .collect()
}

/// The products with these ids that search knows, or of these merchants.
pub async fn products<'c>(
    executor: impl Executor<'c, Database = Any>,
    ids: &[Uuid],
    merchants: &[Uuid],
) -> Result<Vec<Product>, sqlx::Error> {
    if ids.is_empty() && merchants.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{PRODUCT} WHERE p.id IN ({}) OR p.merchant_id IN ({})",
        if ids.is_empty() {
            "NULL".to_owned()
        } else {
            placeholders(1, ids.len())
        },
        if merchants.is_empty() {
            "NULL".to_owned()
        } else {
            placeholders(ids.len() + 1, merchants.len())
        }
    );
    let mut query = sqlx::query(&sql);
    for id in ids.iter().chain(merchants) {
        query = query.bind(id.to_string());
    }
    query
        .fetch_all(executor)
        .await?
        .iter()
        .map(product)
        .collect()
}

/// The categories of a merchant's active products, for its own document.
pub async fn categories<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant_id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT DISTINCT category FROM products WHERE merchant_id = $1 AND active = 1
         ORDER BY category",
    )
    .bind(merchant_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| row.try_get("category"))
    .collect()
}

/// Merchants after `after` in id order, for a rebuild.
pub async fn merchants_after<'c>(
    executor: impl Executor<'c, Database = Any>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Merchant>, sqlx::Error> {
    sqlx::query(&format!(
        "{MERCHANT} WHERE m.id > $1 ORDER BY m.id LIMIT $2"
    ))
    .bind(after.map_or_else(String::new, |id| id.to_string()))
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(merchant)
    .collect()
}

/// Active products after `after` in id order, for a rebuild.
pub async fn products_after<'c>(
    executor: impl Executor<'c, Database = Any>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Product>, sqlx::Error> {
    sqlx::query(&format!(
        "{PRODUCT} WHERE p.id > $1 AND p.active = 1 ORDER BY p.id LIMIT $2"
    ))
    .bind(after.map_or_else(String::new, |id| id.to_string()))
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(product)
    .collect()
}
