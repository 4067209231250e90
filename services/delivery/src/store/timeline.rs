//! What delivery kept of an order beyond the delivery itself, for its timeline.

use ordo_db::row::{instant, opt_instant, uuid};
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

/// An offer of the delivery to a courier, as it stands.
#[derive(Debug, Clone)]
pub struct OfferStep {
    pub courier_id: Uuid,
    pub status: String,
    pub distance_km: f64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub answered_at: Option<OffsetDateTime>,
}

/// Every offer of the delivery, oldest first.
pub async fn offers<'c>(
    executor: impl Executor<'c, Database = Any>,
    delivery_id: Uuid,
) -> Result<Vec<OfferStep>, sqlx::Error> {
    sqlx::query(
        "SELECT courier_id, status, distance_km, created_at, expires_at, answered_at FROM offers
         WHERE delivery_id = $1 ORDER BY created_at, id",
    )
    .bind(delivery_id.to_string())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(OfferStep {
            courier_id: uuid(row, "courier_id")?,
            status: row.try_get("status")?,
            distance_km: row.try_get("distance_km")?,
            created_at: instant(row, "created_at")?,
            expires_at: instant(row, "expires_at")?,
            answered_at: opt_instant(row, "answered_at")?,
        })
    })
    .collect()
}

/// When the courier last reported a position (only the last one is kept).
pub async fn located_at<'c>(
    executor: impl Executor<'c, Database = Any>,
    courier_id: Uuid,
) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    Ok(
        sqlx::query("SELECT located_at FROM couriers WHERE courier_id = $1")
            .bind(courier_id.to_string())
            .fetch_optional(executor)
            .await?
            .map(|row| opt_instant(&row, "located_at"))
            .transpose()?
            .flatten(),
    )
}
