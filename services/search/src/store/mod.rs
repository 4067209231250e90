//! Search's SQL: the catalogue, stock and ratings as events told them, and what the index
//! has yet to take. The tantivy index built from them is in [`index`].

pub mod index;

#[cfg(test)]
mod tests;

use ordo_contracts::catalog::{MerchantSnapshot, OpeningHours, ProductSnapshot};
use ordo_db::sql::placeholders;
use ordo_db::{Encode, Error, Executor, FromRow, Json, Tx, Value, params};
use ordo_kernel::Money;
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
    token: Uuid,
}

/// What a `pending` row names, as its `what` column says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Merchant,
    Product,
}

impl What {
    fn as_str(self) -> &'static str {
        match self {
            What::Merchant => "merchant",
            What::Product => "product",
        }
    }
}

impl std::str::FromStr for What {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "merchant" => Ok(What::Merchant),
            "product" => Ok(What::Product),
            other => Err(format!("not a kind of change: {other}")),
        }
    }
}

ordo_db::text_value!(What);

pub async fn upsert_merchant(tx: &mut Tx, merchant: &MerchantSnapshot) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO merchants (id, name, kind, address, lat, lon, opening_hours)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
           address = excluded.address, lat = excluded.lat, lon = excluded.lon,
           opening_hours = excluded.opening_hours",
        params![
            merchant.merchant_id,
            merchant.name,
            merchant.kind,
            merchant.address,
            merchant.lat,
            merchant.lon,
            Json(&merchant.opening_hours),
        ],
    )
    .await?;
    mark(tx, Changed::Merchant(merchant.merchant_id)).await
}

pub async fn upsert_product(tx: &mut Tx, product: &ProductSnapshot) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO products
           (id, merchant_id, name, description, category, price_amount, currency, tags, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET merchant_id = excluded.merchant_id,
           name = excluded.name, description = excluded.description,
           category = excluded.category, price_amount = excluded.price_amount,
           currency = excluded.currency, tags = excluded.tags, active = excluded.active",
        params![
            product.product_id,
            product.merchant_id,
            product.name,
            product.description,
            product.category,
            product.price.amount,
            product.price.currency,
            Json(&product.tags),
            product.active,
        ],
    )
    .await?;
    // The merchant's document lists its categories.
    mark(tx, Changed::Merchant(product.merchant_id)).await
}

pub async fn delete_product(tx: &mut Tx, product_id: Uuid, merchant_id: Uuid) -> Result<(), Error> {
    tx.execute("DELETE FROM products WHERE id = $1", params![product_id])
        .await?;
    mark(tx, Changed::Product(product_id)).await?;
    mark(tx, Changed::Merchant(merchant_id)).await
}

pub async fn set_stock(tx: &mut Tx, product_id: Uuid, available: i64) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO stock (product_id, available) VALUES ($1, $2)
         ON CONFLICT (product_id) DO UPDATE SET available = excluded.available",
        params![product_id, available],
    )
    .await?;
    mark(tx, Changed::Product(product_id)).await
}

pub async fn set_rating(
    tx: &mut Tx,
    merchant_id: Uuid,
    average: f64,
    count: i64,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO ratings (merchant_id, average, count) VALUES ($1, $2, $3)
         ON CONFLICT (merchant_id) DO UPDATE SET average = excluded.average,
           count = excluded.count",
        params![merchant_id, average, count],
    )
    .await?;
    mark(tx, Changed::Merchant(merchant_id)).await
}

async fn mark(tx: &mut Tx, changed: Changed) -> Result<(), Error> {
    let (id, what) = match changed {
        Changed::Merchant(id) => (id, What::Merchant),
        Changed::Product(id) => (id, What::Product),
    };
    tx.execute(
        "INSERT INTO pending (id, what, token) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET what = excluded.what, token = excluded.token",
        params![id, what, Uuid::new_v4()],
    )
    .await
    .map(drop)
}

#[derive(FromRow)]
struct PendingRow {
    id: Uuid,
    what: What,
    token: Uuid,
}

impl From<PendingRow> for Pending {
    fn from(row: PendingRow) -> Self {
        Pending {
            changed: match row.what {
                What::Merchant => Changed::Merchant(row.id),
                What::Product => Changed::Product(row.id),
            },
            token: row.token,
        }
    }
}

/// Up to `limit` changes the index has yet to take.
pub async fn pending(mut db: impl Executor, limit: i64) -> Result<Vec<Pending>, Error> {
    let rows: Vec<PendingRow> = db
        .fetch_all(
            "SELECT id, what, token FROM pending ORDER BY id LIMIT $1",
            params![limit],
        )
        .await?;
    Ok(rows.into_iter().map(Pending::from).collect())
}

/// Marks `done` as in the index, unless they changed again meanwhile.
pub async fn done(tx: &mut Tx, done: &[Pending]) -> Result<(), Error> {
    for pending in done {
        let id = match pending.changed {
            Changed::Merchant(id) | Changed::Product(id) => id,
        };
        tx.execute(
            "DELETE FROM pending WHERE id = $1 AND token = $2",
            params![id, pending.token],
        )
        .await?;
    }
    Ok(())
}

const MERCHANT: &str = "SELECT m.id, m.name, m.kind, m.address, m.lat, m.lon, m.opening_hours,
       COALESCE(r.average, 0.0) AS rating, COALESCE(r.count, 0) AS rating_count
     FROM merchants m LEFT JOIN ratings r ON r.merchant_id = m.id";

#[derive(FromRow)]
struct MerchantRow {
    id: Uuid,
    name: String,
    kind: String,
    address: String,
    lat: f64,
    lon: f64,
    opening_hours: Json<Vec<OpeningHours>>,
    rating: f64,
    rating_count: i64,
}

impl From<MerchantRow> for Merchant {
    fn from(row: MerchantRow) -> Self {
        Merchant {
            id: row.id,
            name: row.name,
            kind: row.kind,
            address: row.address,
            lat: row.lat,
            lon: row.lon,
            opening_hours: row.opening_hours.0,
            rating: row.rating,
            rating_count: row.rating_count,
        }
    }
}

const PRODUCT: &str = "SELECT p.id, p.merchant_id, p.name, p.description, p.category,
       p.price_amount, p.currency, p.tags, p.active, s.available
     FROM products p LEFT JOIN stock s ON s.product_id = p.id";

#[derive(FromRow)]
struct ProductRow {
    id: Uuid,
    merchant_id: Uuid,
    name: String,
    description: String,
    category: String,
    price_amount: i64,
    currency: String,
    tags: Json<Vec<String>>,
    active: bool,
    available: Option<i64>,
}

impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Self {
        Product {
            id: row.id,
            merchant_id: row.merchant_id,
            name: row.name,
            description: row.description,
            category: row.category,
            price: Money {
                amount: row.price_amount,
                currency: row.currency,
            },
            tags: row.tags.0,
            active: row.active,
            available: row.available,
        }
    }
}

/// The merchants with these ids that search knows.
pub async fn merchants(mut db: impl Executor, ids: &[Uuid]) -> Result<Vec<Merchant>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{MERCHANT} WHERE m.id IN ({})", placeholders(1, ids.len()));
    let params: Vec<Value> = ids.iter().map(Encode::encode).collect();
    let rows: Vec<MerchantRow> = db.fetch_all(&sql, &params).await?;
    Ok(rows.into_iter().map(Merchant::from).collect())
}

/// The products with these ids that search knows, or of these merchants.
pub async fn products(
    mut db: impl Executor,
    ids: &[Uuid],
    merchants: &[Uuid],
) -> Result<Vec<Product>, Error> {
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
    let params: Vec<Value> = ids.iter().chain(merchants).map(Encode::encode).collect();
    let rows: Vec<ProductRow> = db.fetch_all(&sql, &params).await?;
    Ok(rows.into_iter().map(Product::from).collect())
}

/// The categories of a merchant's active products, for its own document.
pub async fn categories(mut db: impl Executor, merchant_id: Uuid) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = db
        .fetch_all(
            "SELECT DISTINCT category FROM products WHERE merchant_id = $1 AND active
             ORDER BY category",
            params![merchant_id],
        )
        .await?;
    Ok(rows.into_iter().map(|(category,)| category).collect())
}

/// Merchants after `after` in id order, for a rebuild (from the first without `after`:
/// every id is above the nil UUID).
pub async fn merchants_after(
    mut db: impl Executor,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Merchant>, Error> {
    let rows: Vec<MerchantRow> = db
        .fetch_all(
            &format!("{MERCHANT} WHERE m.id > $1 ORDER BY m.id LIMIT $2"),
            params![after.unwrap_or(Uuid::nil()), limit],
        )
        .await?;
    Ok(rows.into_iter().map(Merchant::from).collect())
}

/// Active products after `after` in id order, for a rebuild (from the first without
/// `after`).
pub async fn products_after(
    mut db: impl Executor,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Product>, Error> {
    let rows: Vec<ProductRow> = db
        .fetch_all(
            &format!("{PRODUCT} WHERE p.id > $1 AND p.active ORDER BY p.id LIMIT $2"),
            params![after.unwrap_or(Uuid::nil()), limit],
        )
        .await?;
    Ok(rows.into_iter().map(Product::from).collect())
}
