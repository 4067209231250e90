use crate::domain::{Merchant, MerchantKind, Opening};
use ordo_db::row::{self, millis};
use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use uuid::Uuid;

const COLUMNS: &str =
    "id, name, kind, address, lat, lon, opening_hours, created_at, updated_at, image_id";

fn decode_error(message: &str) -> sqlx::Error {
    sqlx::Error::Decode(message.to_owned().into())
}

fn hours_json(openings: &[Opening]) -> String {
    Value::Array(
        openings
            .iter()
            .map(|o| json!({"day": o.day, "open": o.open, "close": o.close}))
            .collect(),
    )
    .to_string()
}

fn hours(text: &str) -> Result<Vec<Opening>, sqlx::Error> {
    let value: Value = serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let field = |o: &Value, name: &str| {
        o[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| decode_error("malformed opening hours"))
    };
    value
        .as_array()
        .ok_or_else(|| decode_error("malformed opening hours"))?
        .iter()
        .map(|o| {
            Ok(Opening {
                day: field(o, "day")?,
                open: field(o, "open")?,
                close: field(o, "close")?,
            })
        })
        .collect()
}

/// A merchant row without its staff (`staff` is filled by `find`).
fn merchant(row: &AnyRow) -> Result<Merchant, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let opening_hours: String = row.try_get("opening_hours")?;
    Ok(Merchant {
        id: row::uuid(row, "id")?,
        name: row.try_get("name")?,
        kind: kind.parse::<MerchantKind>().map_err(decode_error)?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        opening_hours: hours(&opening_hours)?,
        staff: Vec::new(),
        image: row::opt_uuid(row, "image_id")?,
        created_at: row::instant(row, "created_at")?,
        updated_at: row::instant(row, "updated_at")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, merchant: &Merchant) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO merchants ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(merchant.id.to_string())
    .bind(&merchant.name)
    .bind(merchant.kind.as_str())
    .bind(&merchant.address)
    .bind(merchant.lat)
    .bind(merchant.lon)
    .bind(hours_json(&merchant.opening_hours))
    .bind(millis(merchant.created_at))
    .bind(millis(merchant.updated_at))
    .bind(merchant.image.map(|id| id.to_string()))
    .execute(&mut *conn)
    .await?;
    for user in &merchant.staff {
        sqlx::query(
            "INSERT INTO merchant_staff (merchant_id, user_id, added_at) VALUES ($1, $2, $3)",
        )
        .bind(merchant.id.to_string())
        .bind(user.to_string())
        .bind(millis(merchant.created_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn update<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant: &Merchant,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE merchants SET name = $2, kind = $3, address = $4, lat = $5, lon = $6,
         opening_hours = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(merchant.id.to_string())
    .bind(&merchant.name)
    .bind(merchant.kind.as_str())
    .bind(&merchant.address)
    .bind(merchant.lat)
    .bind(merchant.lon)
    .bind(hours_json(&merchant.opening_hours))
    .bind(millis(merchant.updated_at))
    .execute(executor)
    .await
    .map(|_| ())
}

async fn staff(conn: &mut AnyConnection, merchant_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query(
        "SELECT user_id FROM merchant_staff WHERE merchant_id = $1 ORDER BY added_at, user_id",
    )
    .bind(merchant_id.to_string())
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| row::uuid(row, "user_id"))
    .collect()
}

/// The merchant with its staff.
pub async fn find(conn: &mut AnyConnection, id: Uuid) -> Result<Option<Merchant>, sqlx::Error> {
    let found = sqlx::query(&format!("SELECT {COLUMNS} FROM merchants WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = found else { return Ok(None) };
    let mut merchant = merchant(&row)?;
    merchant.staff = staff(conn, id).await?;
    Ok(Some(merchant))
}

/// Whether `user` acts for `merchant_id`.
pub async fn is_staff<'c>(
    executor: impl Executor<'c, Database = Any>,
    merchant_id: Uuid,
    user: Uuid,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM merchant_staff WHERE merchant_id = $1 AND user_id = $2")
            .bind(merchant_id.to_string())
            .bind(user.to_string())
            .fetch_optional(executor)
            .await?
            .is_some(),
    )
}

/// Newest first, after the cursor `before`; `fetch` rows at most. Without staff.
pub async fn page<'c>(
    executor: impl Executor<'c, Database = Any>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Merchant>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM merchants WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
    ))
    .bind(before.map(|id| id.to_string()))
    .bind(fetch)
    .fetch_all(executor)
    .await?
    .iter()
    .map(merchant)
    .collect()
}

/// The merchants `user_id` staffs, by name. Without staff.
pub async fn staffed_by<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
    fetch: i64,
) -> Result<Vec<Merchant>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM merchants
         WHERE id IN (SELECT merchant_id FROM merchant_staff WHERE user_id = $1)
         ORDER BY name, id LIMIT $2"
    ))
    .bind(user_id.to_string())
    .bind(fetch)
    .fetch_all(executor)
    .await?
    .iter()
    .map(merchant)
    .collect()
}

/// Merchants inside a latitude/longitude box, at most `fetch`. Without staff.
pub async fn in_box<'c>(
    executor: impl Executor<'c, Database = Any>,
    south_west: (f64, f64),
    north_east: (f64, f64),
    fetch: i64,
) -> Result<Vec<Merchant>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM merchants
         WHERE lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4 LIMIT $5"
    ))
    .bind(south_west.0)
    .bind(north_east.0)
    .bind(south_west.1)
    .bind(north_east.1)
    .bind(fetch)
    .fetch_all(executor)
    .await?
    .iter()
    .map(merchant)
    .collect()
}

/// The merchants whose lowercased name matches `name` (a `LIKE` pattern), newest first.
pub async fn named_like<'c>(
    executor: impl Executor<'c, Database = Any>,
    name: &str,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query(
        "SELECT id FROM merchants WHERE LOWER(name) LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2",
    )
    .bind(name)
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| row::uuid(row, "id"))
    .collect()
}
