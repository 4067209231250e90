//! The cart's SQL, the same on SQLite and PostgreSQL; carts in Redis are `redis_carts`'s.

pub mod redis_carts;

#[cfg(test)]
mod redis_tests;
#[cfg(test)]
mod tests;

use ordo_db::{Db, Error, FromRow, Tx, params};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct Item {
    pub product_id: Uuid,
    pub quantity: i64,
}

pub async fn items(db: &Db, customer: Uuid) -> Result<Vec<Item>, Error> {
    db.fetch_all(
        "SELECT product_id, quantity FROM cart_items WHERE customer_id = $1 ORDER BY added_at, product_id",
        params![customer],
    )
    .await
}

pub async fn count(tx: &mut Tx, customer: Uuid) -> Result<i64, Error> {
    let (lines,) = tx
        .fetch_one(
            "SELECT COUNT(*) FROM cart_items WHERE customer_id = $1",
            params![customer],
        )
        .await?;
    Ok(lines)
}

/// Takes the customer's cart for the rest of the transaction: additions of one customer
/// follow one another (on PostgreSQL the row's lock; on SQLite the one writer).
pub async fn take(tx: &mut Tx, customer: Uuid, at: OffsetDateTime) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO carts (customer_id, updated_at) VALUES ($1, $2)
         ON CONFLICT (customer_id) DO UPDATE SET updated_at = excluded.updated_at",
        params![customer, at],
    )
    .await
    .map(drop)
}

/// A merchant other than `merchant` whose products the cart holds, if any.
pub async fn other_merchant(
    tx: &mut Tx,
    customer: Uuid,
    merchant: Uuid,
) -> Result<Option<Uuid>, Error> {
    let other: Option<(Uuid,)> = tx
        .fetch_optional(
            "SELECT merchant_id FROM cart_items WHERE customer_id = $1 AND merchant_id <> $2 LIMIT 1",
            params![customer, merchant],
        )
        .await?;
    Ok(other.map(|(merchant_id,)| merchant_id))
}

/// Adds the line's quantity to what the cart holds of its product (one of `merchant`'s),
/// creating the line; false when the sum would pass `max`.
pub async fn add(
    tx: &mut Tx,
    customer: Uuid,
    merchant: Uuid,
    line: Item,
    max: i64,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "INSERT INTO cart_items (customer_id, product_id, quantity, added_at, updated_at, merchant_id) VALUES ($1, $2, $3, $4, $4, $6)
             ON CONFLICT (customer_id, product_id) DO UPDATE
               SET quantity = cart_items.quantity + excluded.quantity, updated_at = excluded.updated_at,
                   merchant_id = excluded.merchant_id
               WHERE cart_items.quantity + excluded.quantity <= $5",
            params![customer, line.product_id, line.quantity, at, max, merchant],
        )
        .await?;
    Ok(changed == 1)
}

/// Sets the line's quantity; false when there is no such line.
pub async fn set(
    tx: &mut Tx,
    customer: Uuid,
    product: Uuid,
    quantity: i64,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE cart_items SET quantity = $3, updated_at = $4 WHERE customer_id = $1 AND product_id = $2",
            params![customer, product, quantity, at],
        )
        .await?;
    Ok(changed == 1)
}

pub async fn remove(tx: &mut Tx, customer: Uuid, product: Uuid) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "DELETE FROM cart_items WHERE customer_id = $1 AND product_id = $2",
            params![customer, product],
        )
        .await?;
    Ok(changed == 1)
}

/// Takes `quantity` of the product out of the customer's cart: the line goes when no more
/// is left.
pub async fn take_out(
    tx: &mut Tx,
    customer: Uuid,
    product: Uuid,
    quantity: i64,
) -> Result<(), Error> {
    tx.execute(
        "DELETE FROM cart_items WHERE customer_id = $1 AND product_id = $2 AND quantity <= $3",
        params![customer, product, quantity],
    )
    .await?;
    tx.execute(
        "UPDATE cart_items SET quantity = quantity - $3 WHERE customer_id = $1 AND product_id = $2",
        params![customer, product, quantity],
    )
    .await
    .map(drop)
}

pub async fn clear(tx: &mut Tx, customer: Uuid) -> Result<(), Error> {
    tx.execute(
        "DELETE FROM cart_items WHERE customer_id = $1",
        params![customer],
    )
    .await
    .map(drop)
}
