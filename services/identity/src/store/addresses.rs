use crate::domain::Address;
use ordo_db::{Db, Executor, FromRow, Tx, params};
use ordo_kernel::PostalAddress;
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "id, user_id, label, line1, line2, city, postal_code, country, lat, lon, created_at, updated_at";

/// Most addresses a user may keep; a bound that keeps lists unpaginated and small.
pub const MAX_PER_USER: i64 = 50;

#[derive(FromRow)]
struct AddressRow {
    id: Uuid,
    user_id: Uuid,
    label: Option<String>,
    line1: String,
    line2: Option<String>,
    city: String,
    postal_code: String,
    country: String,
    lat: f64,
    lon: f64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<AddressRow> for Address {
    fn from(row: AddressRow) -> Self {
        Address {
            id: row.id,
            user_id: row.user_id,
            label: row.label,
            postal: PostalAddress {
                line1: row.line1,
                line2: row.line2,
                city: row.city,
                postal_code: row.postal_code,
                country: row.country,
                lat: row.lat,
                lon: row.lon,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

pub async fn insert(tx: &mut Tx, address: &Address) -> Result<(), ordo_db::Error> {
    let sql = format!(
        "INSERT INTO addresses ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    tx.execute(
        &sql,
        params![
            address.id,
            address.user_id,
            address.label,
            address.postal.line1,
            address.postal.line2,
            address.postal.city,
            address.postal.postal_code,
            address.postal.country,
            address.postal.lat,
            address.postal.lon,
            address.created_at,
            address.updated_at,
        ],
    )
    .await
    .map(drop)
}

pub async fn count(tx: &mut Tx, user_id: Uuid) -> Result<i64, ordo_db::Error> {
    let (count,): (i64,) = tx
        .fetch_one(
            "SELECT COUNT(*) FROM addresses WHERE user_id = $1",
            params![user_id],
        )
        .await?;
    Ok(count)
}

pub async fn list(db: &Db, user_id: Uuid) -> Result<Vec<Address>, ordo_db::Error> {
    let sql = format!("SELECT {COLUMNS} FROM addresses WHERE user_id = $1 ORDER BY id");
    let rows: Vec<AddressRow> = db.fetch_all(&sql, params![user_id]).await?;
    Ok(rows.into_iter().map(Address::from).collect())
}

/// The address, only if it belongs to `user_id`.
pub async fn find(
    mut db: impl Executor,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Address>, ordo_db::Error> {
    let sql = format!("SELECT {COLUMNS} FROM addresses WHERE id = $1 AND user_id = $2");
    let row: Option<AddressRow> = db.fetch_optional(&sql, params![id, user_id]).await?;
    Ok(row.map(Address::from))
}

pub async fn update(tx: &mut Tx, address: &Address) -> Result<(), ordo_db::Error> {
    tx.execute(
        "UPDATE addresses SET label = $1, line1 = $2, line2 = $3, city = $4, postal_code = $5,
             country = $6, lat = $7, lon = $8, updated_at = $9
         WHERE id = $10 AND user_id = $11",
        params![
            address.label,
            address.postal.line1,
            address.postal.line2,
            address.postal.city,
            address.postal.postal_code,
            address.postal.country,
            address.postal.lat,
            address.postal.lon,
            address.updated_at,
            address.id,
            address.user_id,
        ],
    )
    .await
    .map(drop)
}

/// Deletes the address if it belongs to `user_id`; whether one was deleted.
pub async fn delete(tx: &mut Tx, user_id: Uuid, id: Uuid) -> Result<bool, ordo_db::Error> {
    let deleted = tx
        .execute(
            "DELETE FROM addresses WHERE id = $1 AND user_id = $2",
            params![id, user_id],
        )
        .await?;
    Ok(deleted == 1)
}
