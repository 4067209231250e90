use crate::domain::Product;
use ordo_db::{Db, Encode, Error, Executor, FromRow, Json, Tx, Value, params, sql};
use ordo_kernel::Money;
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "id, merchant_id, name, description, category, price_amount, currency, sku, tags, active, created_at, updated_at, image_id";

#[derive(FromRow)]
struct ProductRow {
    id: Uuid,
    merchant_id: Uuid,
    name: String,
    description: String,
    category: String,
    price_amount: i64,
    currency: String,
    sku: Option<String>,
    tags: Json<Vec<String>>,
    active: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    image_id: Option<Uuid>,
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
            sku: row.sku,
            tags: row.tags.0,
            active: row.active,
            image: row.image_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn products(rows: Vec<ProductRow>) -> Vec<Product> {
    rows.into_iter().map(Product::from).collect()
}

pub async fn insert(tx: &mut Tx, product: &Product) -> Result<(), Error> {
    tx.execute(
        &format!(
            "INSERT INTO products ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ),
        params![
            product.id,
            product.merchant_id,
            product.name,
            product.description,
            product.category,
            product.price.amount,
            product.price.currency,
            product.sku,
            Json(&product.tags),
            product.active,
            product.created_at,
            product.updated_at,
            product.image,
        ],
    )
    .await
    .map(drop)
}

pub async fn update(tx: &mut Tx, product: &Product) -> Result<(), Error> {
    tx.execute(
        "UPDATE products SET name = $2, description = $3, category = $4, price_amount = $5,
         currency = $6, sku = $7, tags = $8, active = $9, updated_at = $10
         WHERE id = $1 AND deleted_at IS NULL",
        params![
            product.id,
            product.name,
            product.description,
            product.category,
            product.price.amount,
            product.price.currency,
            product.sku,
            Json(&product.tags),
            product.active,
            product.updated_at,
        ],
    )
    .await
    .map(drop)
}

/// Marks the product deleted: orders keep referring to it, nobody can see or buy it.
pub async fn delete(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE products SET deleted_at = $2, active = FALSE WHERE id = $1 AND deleted_at IS NULL",
            params![id, at],
        )
        .await?;
    Ok(changed == 1)
}

pub async fn find(mut db: impl Executor, id: Uuid) -> Result<Option<Product>, Error> {
    let row: Option<ProductRow> = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM products WHERE id = $1 AND deleted_at IS NULL"),
            params![id],
        )
        .await?;
    Ok(row.map(Product::from))
}

/// A merchant's products, newest first, after the cursor `before`; inactive ones only when
/// `with_inactive`.
pub async fn of_merchant(
    db: &Db,
    merchant_id: Uuid,
    with_inactive: bool,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Product>, Error> {
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM products
                 WHERE merchant_id = $1 AND deleted_at IS NULL AND (active OR $2)
                   AND ($3 IS NULL OR id < $3)
                 ORDER BY id DESC LIMIT $4"
            ),
            params![merchant_id, with_inactive, before, fetch],
        )
        .await?;
    Ok(products(rows))
}

/// The products among `ids` that are not deleted.
pub async fn by_ids(db: &Db, ids: &[Uuid]) -> Result<Vec<Product>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE deleted_at IS NULL AND id IN ({})",
        sql::placeholders(1, ids.len())
    );
    let params: Vec<Value> = ids.iter().map(Encode::encode).collect();
    Ok(products(db.fetch_all(&sql, &params).await?))
}

/// A merchant's categories of active products, with how many products each has.
pub async fn categories(db: &Db, merchant_id: Uuid) -> Result<Vec<(String, i64)>, Error> {
    db.fetch_all(
        "SELECT category, COUNT(*) AS products FROM products
         WHERE merchant_id = $1 AND deleted_at IS NULL AND active
         GROUP BY category ORDER BY category",
        params![merchant_id],
    )
    .await
}
