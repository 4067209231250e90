use crate::domain::{Merchant, MerchantKind, Opening};
use ordo_db::{Db, Error, Executor, FromRow, Json, Tx, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

ordo_db::text_value!(MerchantKind);

const COLUMNS: &str =
    "id, name, kind, address, lat, lon, opening_hours, created_at, updated_at, image_id";

/// One opening as stored in the JSON of `opening_hours`:
/// `[{"day": "mon", "open": "09:00", "close": "22:00"}]`.
#[derive(Serialize, Deserialize)]
struct StoredOpening {
    day: String,
    open: String,
    close: String,
}

fn hours_json(openings: &[Opening]) -> Json<Vec<StoredOpening>> {
    Json(
        openings
            .iter()
            .map(|o| StoredOpening {
                day: o.day.clone(),
                open: o.open.clone(),
                close: o.close.clone(),
            })
            .collect(),
    )
}

#[derive(FromRow)]
struct MerchantRow {
    id: Uuid,
    name: String,
    kind: MerchantKind,
    address: String,
    lat: f64,
    lon: f64,
    opening_hours: Json<Vec<StoredOpening>>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    image_id: Option<Uuid>,
}

/// A merchant row without its staff (`staff` is filled by `find`).
impl From<MerchantRow> for Merchant {
    fn from(row: MerchantRow) -> Self {
        Merchant {
            id: row.id,
            name: row.name,
            kind: row.kind,
            address: row.address,
            lat: row.lat,
            lon: row.lon,
            opening_hours: row
                .opening_hours
                .0
                .into_iter()
                .map(|o| Opening {
                    day: o.day,
                    open: o.open,
                    close: o.close,
                })
                .collect(),
            staff: Vec::new(),
            image: row.image_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn merchants(rows: Vec<MerchantRow>) -> Vec<Merchant> {
    rows.into_iter().map(Merchant::from).collect()
}

pub async fn insert(tx: &mut Tx, merchant: &Merchant) -> Result<(), Error> {
    tx.execute(
        &format!(
            "INSERT INTO merchants ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        params![
            merchant.id,
            merchant.name,
            merchant.kind,
            merchant.address,
            merchant.lat,
            merchant.lon,
            hours_json(&merchant.opening_hours),
            merchant.created_at,
            merchant.updated_at,
            merchant.image,
        ],
    )
    .await?;
    for user in &merchant.staff {
        tx.execute(
            "INSERT INTO merchant_staff (merchant_id, user_id, added_at) VALUES ($1, $2, $3)",
            params![merchant.id, user, merchant.created_at],
        )
        .await?;
    }
    Ok(())
}

pub async fn update(tx: &mut Tx, merchant: &Merchant) -> Result<(), Error> {
    tx.execute(
        "UPDATE merchants SET name = $2, kind = $3, address = $4, lat = $5, lon = $6,
         opening_hours = $7, updated_at = $8 WHERE id = $1",
        params![
            merchant.id,
            merchant.name,
            merchant.kind,
            merchant.address,
            merchant.lat,
            merchant.lon,
            hours_json(&merchant.opening_hours),
            merchant.updated_at,
        ],
    )
    .await
    .map(drop)
}

async fn staff(db: &mut impl Executor, merchant_id: Uuid) -> Result<Vec<Uuid>, Error> {
    let rows: Vec<(Uuid,)> = db
        .fetch_all(
            "SELECT user_id FROM merchant_staff WHERE merchant_id = $1 ORDER BY added_at, user_id",
            params![merchant_id],
        )
        .await?;
    Ok(rows.into_iter().map(|(user,)| user).collect())
}

/// The merchant with its staff.
pub async fn find(mut db: impl Executor, id: Uuid) -> Result<Option<Merchant>, Error> {
    let found: Option<MerchantRow> = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM merchants WHERE id = $1"),
            params![id],
        )
        .await?;
    let Some(row) = found else { return Ok(None) };
    let mut merchant = Merchant::from(row);
    merchant.staff = staff(&mut db, id).await?;
    Ok(Some(merchant))
}

/// Whether `user` acts for `merchant_id`.
pub async fn is_staff(mut db: impl Executor, merchant_id: Uuid, user: Uuid) -> Result<bool, Error> {
    let found: Option<(i64,)> = db
        .fetch_optional(
            "SELECT 1 FROM merchant_staff WHERE merchant_id = $1 AND user_id = $2",
            params![merchant_id, user],
        )
        .await?;
    Ok(found.is_some())
}

/// Newest first, after the cursor `before`; `fetch` rows at most. Without staff.
pub async fn page(db: &Db, before: Option<Uuid>, fetch: i64) -> Result<Vec<Merchant>, Error> {
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM merchants WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
            ),
            params![before, fetch],
        )
        .await?;
    Ok(merchants(rows))
}

/// The merchants `user_id` staffs, by name. Without staff.
pub async fn staffed_by(db: &Db, user_id: Uuid, fetch: i64) -> Result<Vec<Merchant>, Error> {
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM merchants
                 WHERE id IN (SELECT merchant_id FROM merchant_staff WHERE user_id = $1)
                 ORDER BY name, id LIMIT $2"
            ),
            params![user_id, fetch],
        )
        .await?;
    Ok(merchants(rows))
}

/// Merchants inside a latitude/longitude box, at most `fetch`. Without staff.
pub async fn in_box(
    db: &Db,
    south_west: (f64, f64),
    north_east: (f64, f64),
    fetch: i64,
) -> Result<Vec<Merchant>, Error> {
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM merchants
                 WHERE lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4 LIMIT $5"
            ),
            params![
                south_west.0,
                north_east.0,
                south_west.1,
                north_east.1,
                fetch
            ],
        )
        .await?;
    Ok(merchants(rows))
}

/// The merchants whose lowercased name matches `name` (a `LIKE` pattern), newest first.
pub async fn named_like(db: &Db, name: &str, limit: i64) -> Result<Vec<Uuid>, Error> {
    let rows: Vec<(Uuid,)> = db
        .fetch_all(
            "SELECT id FROM merchants WHERE LOWER(name) LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2",
            params![name, limit],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
