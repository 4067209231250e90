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
    pub made_traceparent: Option<String>,
    pub answered_traceparent: Option<String>,
}

/// The traces (W3C traceparents) of the delivery's steps, each kept when it happened.
#[derive(Debug, Clone, Default)]
pub struct StepTraces {
    pub opened: Option<String>,
    pub assigned: Option<String>,
    pub picked_up: Option<String>,
    pub delivered: Option<String>,
    pub escalated: Option<String>,
    pub redispatched: Option<String>,
}

/// The traces of the delivery's steps; none for an unknown delivery.
pub async fn step_traces<'c>(
    executor: impl Executor<'c, Database = Any>,
    delivery_id: Uuid,
) -> Result<StepTraces, sqlx::Error> {
    let row = sqlx::query(
        "SELECT opened_traceparent, assigned_traceparent, picked_up_traceparent,
                delivered_traceparent, escalated_traceparent, redispatched_traceparent
         FROM deliveries WHERE id = $1",
    )
    .bind(delivery_id.to_string())
    .fetch_optional(executor)
    .await?;
    let Some(row) = row else {
        return Ok(StepTraces::default());
    };
    Ok(StepTraces {
        opened: row.try_get("opened_traceparent")?,
        assigned: row.try_get("assigned_traceparent")?,
        picked_up: row.try_get("picked_up_traceparent")?,
        delivered: row.try_get("delivered_traceparent")?,
        escalated: row.try_get("escalated_traceparent")?,
        redispatched: row.try_get("redispatched_traceparent")?,
    })
}

/// Every offer of the delivery, oldest first.
pub async fn offers<'c>(
    executor: impl Executor<'c, Database = Any>,
    delivery_id: Uuid,
) -> Result<Vec<OfferStep>, sqlx::Error> {
    sqlx::query(
        "SELECT courier_id, status, distance_km, created_at, expires_at, answered_at,
                made_traceparent, answered_traceparent FROM offers
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
            made_traceparent: row.try_get("made_traceparent")?,
            answered_traceparent: row.try_get("answered_traceparent")?,
        })
    })
    .collect()
}

/// When the courier last reported a position (only the last one is kept), and the trace
/// of that report.
pub async fn located_at<'c>(
    executor: impl Executor<'c, Database = Any>,
    courier_id: Uuid,
) -> Result<Option<(OffsetDateTime, Option<String>)>, sqlx::Error> {
    let row =
        sqlx::query("SELECT located_at, located_traceparent FROM couriers WHERE courier_id = $1")
            .bind(courier_id.to_string())
            .fetch_optional(executor)
            .await?;
    let Some(row) = row else { return Ok(None) };
    opt_instant(&row, "located_at")?
        .map(|at| row.try_get("located_traceparent").map(|trace| (at, trace)))
        .transpose()
}
