use crate::domain::Product;
use ordo_db::row::{self, millis};
use ordo_kernel::Money;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "id, merchant_id, name, description, category, price_amount, currency, sku, tags, active, created_at, updated_at, image_id";

fn product(row: &AnyRow) -> Result<Product, sqlx::Error> {
    let tags: String = row.try_get("tags")?;
    Ok(Product {
        id: row::uuid(row, "id")?,
        merchant_id: row::uuid(row, "merchant_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        category: row.try_get("category")?,
        price: Money {
            amount: row.try_get("price_amount")?,
            currency: row.try_get("currency")?,
        },
        sku: row.try_get("sku")?,
        tags: serde_json::from_str(&tags).map_err(|e| sqlx::Error::Decode(e.into()))?,
        active: row.try_get::<i64, _>("active")? == 1,
        image: row::opt_uuid(row, "image_id")?,
        created_at: row::instant(row, "created_at")?,
        updated_at: row::instant(row, "updated_at")?,
    })
}

fn tags_json(tags: &[String]) -> String {
    serde_json::Value::from(tags.to_vec()).to_string()
}

pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    product: &Product,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO products ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(product.id.to_string())
    .bind(product.merchant_id.to_string())
    .bind(&product.name)
    .bind(&product.description)
    .bind(&product.category)
    .bind(product.price.amount)
    .bind(&product.price.currency)
    .bind(product.sku.as_deref())
    .bind(tags_json(&product.tags))
    .bind(i64::from(product.active))
    .bind(millis(product.created_at))
    .bind(millis(product.updated_at))
    .bind(product.image.map(|id| id.to_string()))
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn update<'c>(
    executor: impl Executor<'c, Database = Any>,
    product: &Product,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE products SET name = $2, description = $3, category = $4, price_amount = $5,
         currency = $6, sku = $7, tags = $8, active = $9, updated_at = $10
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(product.id.to_string())
    .bind(&product.name)
    .bind(&product.description)
    .bind(&product.category)
    .bind(product.price.amount)
    .bind(&product.price.currency)
    .bind(product.sku.as_deref())
    .bind(tags_json(&product.tags))
    .bind(i64::from(product.active))
    .bind(millis(product.updated_at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// Marks the product deleted: orders keep referring to it, nobody can see or buy it.
pub async fn delete<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE products SET deleted_at = $2, active = 0 WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id.to_string())
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
) -> Result<Option<Product>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM products WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id.to_string())
    .fetch_optional(executor)
    .await?
    .as_ref()
    .map(product)
    .transpose()
}

/// A merchant's products, newest first, after the cursor `before`; inactive ones only when
/// `with_inactive`.
pub async fn of_merchant<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant_id: Uuid,
    with_inactive: bool,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Product>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM products
         WHERE merchant_id = $1 AND deleted_at IS NULL AND (active = 1 OR $2 = 1)
           AND ($3 IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(merchant_id.to_string())
    .bind(i64::from(with_inactive))
    .bind(before.map(|id| id.to_string()))
    .bind(fetch)
    .fetch_all(executor)
    .await?
    .iter()
    .map(product)
    .collect()
}

/// The products among `ids` that are not deleted.
pub async fn by_ids<'c>(
    executor: impl Executor<'c, Database = Any>,
    ids: &[Uuid],
) -> Result<Vec<Product>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (1..=ids.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {COLUMNS} FROM products WHERE deleted_at IS NULL AND id IN ({placeholders})"
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id.to_string());
    }
    query
        .fetch_all(executor)
        .await?
        .iter()
        .map(product)
        .collect()
}

/// A merchant's categories of active products, with how many products each has.
pub async fn categories<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant_id: Uuid,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT category, COUNT(*) AS products FROM products
         WHERE merchant_id = $1 AND deleted_at IS NULL AND active = 1
         GROUP BY category ORDER BY category",
    )
    .bind(merchant_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("category")?, row.try_get("products")?)))
    .collect()
}
