use crate::domain::Address;
use ordo_db::row::{self, millis};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use uuid::Uuid;

const COLUMNS: &str = "id, user_id, label, line1, line2, city, postal_code, country, lat, lon, created_at, updated_at";

/// Most addresses a user may keep; a bound that keeps lists unpaginated and small.
pub const MAX_PER_USER: i64 = 50;

fn address(row: &AnyRow) -> Result<Address, sqlx::Error> {
    Ok(Address {
        id: row::uuid(row, "id")?,
        user_id: row::uuid(row, "user_id")?,
        label: row.try_get("label")?,
        line1: row.try_get("line1")?,
        line2: row.try_get("line2")?,
        city: row.try_get("city")?,
        postal_code: row.try_get("postal_code")?,
        country: row.try_get("country")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        created_at: row::instant(row, "created_at")?,
        updated_at: row::instant(row, "updated_at")?,
    })
}

pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    address: &Address,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO addresses ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(address.id.to_string())
    .bind(address.user_id.to_string())
    .bind(address.label.as_deref())
    .bind(&address.line1)
    .bind(address.line2.as_deref())
    .bind(&address.city)
    .bind(&address.postal_code)
    .bind(&address.country)
    .bind(address.lat)
    .bind(address.lon)
    .bind(millis(address.created_at))
    .bind(millis(address.updated_at))
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn count<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) FROM addresses WHERE user_id = $1")
        .bind(user_id.to_string())
        .fetch_one(executor)
        .await?
        .try_get(0)
}

pub async fn list<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
) -> Result<Vec<Address>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM addresses WHERE user_id = $1 ORDER BY id"
    ))
    .bind(user_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(address)
    .collect()
}

/// The address, only if it belongs to `user_id`.
pub async fn find<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Address>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM addresses WHERE id = $1 AND user_id = $2"
    ))
    .bind(id.to_string())
    .bind(user_id.to_string())
    .fetch_optional(executor)
    .await?
    .as_ref()
    .map(address)
    .transpose()
}

pub async fn update<'c>(
    executor: impl Executor<'c, Database = Any>,
    address: &Address,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE addresses SET label = $1, line1 = $2, line2 = $3, city = $4, postal_code = $5,
             country = $6, lat = $7, lon = $8, updated_at = $9
         WHERE id = $10 AND user_id = $11",
    )
    .bind(address.label.as_deref())
    .bind(&address.line1)
    .bind(address.line2.as_deref())
    .bind(&address.city)
    .bind(&address.postal_code)
    .bind(&address.country)
    .bind(address.lat)
    .bind(address.lon)
    .bind(millis(address.updated_at))
    .bind(address.id.to_string())
    .bind(address.user_id.to_string())
    .execute(executor)
    .await
    .map(|_| ())
}

/// Deletes the address if it belongs to `user_id`; whether one was deleted.
pub async fn delete<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM addresses WHERE id = $1 AND user_id = $2")
        .bind(id.to_string())
        .bind(user_id.to_string())
        .execute(executor)
        .await
        .map(|r| r.rows_affected() == 1)
}
