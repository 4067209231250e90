//! The cart's SQL, the same on SQLite and PostgreSQL; carts in Redis are `redis_carts`'s.

pub mod redis_carts;

use ordo_db::row::{self, millis};
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub product_id: Uuid,
    pub quantity: i64,
}

pub async fn items<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer: Uuid,
) -> Result<Vec<Item>, sqlx::Error> {
    sqlx::query("SELECT product_id, quantity FROM cart_items WHERE customer_id = $1 ORDER BY added_at, product_id")
        .bind(customer.to_string())
        .fetch_all(executor)
        .await?
        .iter()
        .map(|r| Ok(Item { product_id: row::uuid(r, "product_id")?, quantity: r.try_get("quantity")? }))
        .collect()
}

pub async fn count<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) FROM cart_items WHERE customer_id = $1")
        .bind(customer.to_string())
        .fetch_one(executor)
        .await?
        .try_get(0)
}

/// Takes the customer's cart for the rest of the transaction: additions of one customer
/// follow one another (on PostgreSQL the row's lock; on SQLite the one writer).
pub async fn take<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer: Uuid,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO carts (customer_id, updated_at) VALUES ($1, $2)
         ON CONFLICT (customer_id) DO UPDATE SET updated_at = excluded.updated_at",
    )
    .bind(customer.to_string())
    .bind(millis(at))
    .execute(executor)
    .await
    .map(drop)
}

/// A merchant other than `merchant` whose products the cart holds, if any.
pub async fn other_merchant<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer: Uuid,
    merchant: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query(
        "SELECT merchant_id FROM cart_items WHERE customer_id = $1 AND merchant_id <> $2 LIMIT 1",
    )
    .bind(customer.to_string())
    .bind(merchant.to_string())
    .fetch_optional(executor)
    .await?
    .map(|r| row::uuid(&r, "merchant_id"))
    .transpose()
}

/// Adds the line's quantity to what the cart holds of its product (one of `merchant`'s),
/// creating the line; false when the sum would pass `max`.
pub async fn add<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer: Uuid,
    merchant: Uuid,
    line: Item,
    max: i64,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO cart_items (customer_id, product_id, quantity, added_at, updated_at, merchant_id) VALUES ($1, $2, $3, $4, $4, $6)
         ON CONFLICT (customer_id, product_id) DO UPDATE
           SET quantity = cart_items.quantity + excluded.quantity, updated_at = excluded.updated_at,
               merchant_id = excluded.merchant_id
           WHERE cart_items.quantity + excluded.quantity <= $5",
    )
    .bind(customer.to_string())
    .bind(line.product_id.to_string())
    .bind(line.quantity)
    .bind(millis(at))
    .bind(max)
    .bind(merchant.to_string())
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets the line's quantity; false when there is no such line.
pub async fn set<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer: Uuid,
    product: Uuid,
    quantity: i64,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE cart_items SET quantity = $3, updated_at = $4 WHERE customer_id = $1 AND product_id = $2")
        .bind(customer.to_string())
        .bind(product.to_string())
        .bind(quantity)
        .bind(millis(at))
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn remove<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer: Uuid,
    product: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM cart_items WHERE customer_id = $1 AND product_id = $2")
        .bind(customer.to_string())
        .bind(product.to_string())
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes `quantity` of the product out of the customer's cart: the line goes when no more
/// is left.
pub async fn take_out(
    conn: &mut AnyConnection,
    customer: Uuid,
    product: Uuid,
    quantity: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM cart_items WHERE customer_id = $1 AND product_id = $2 AND quantity <= $3",
    )
    .bind(customer.to_string())
    .bind(product.to_string())
    .bind(quantity)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE cart_items SET quantity = quantity - $3 WHERE customer_id = $1 AND product_id = $2",
    )
    .bind(customer.to_string())
    .bind(product.to_string())
    .bind(quantity)
    .execute(conn)
    .await
    .map(drop)
}

pub async fn clear<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM cart_items WHERE customer_id = $1")
        .bind(customer.to_string())
        .execute(executor)
        .await
        .map(|_| ())
}
