//! What delivery kept of an order beyond the delivery itself, for its timeline.

use ordo_db::{Db, Error, FromRow, params};
use time::OffsetDateTime;
use uuid::Uuid;

/// An offer of the delivery to a courier, as it stands.
#[derive(Debug, Clone, FromRow)]
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

#[derive(FromRow)]
struct StepTracesRow {
    opened_traceparent: Option<String>,
    assigned_traceparent: Option<String>,
    picked_up_traceparent: Option<String>,
    delivered_traceparent: Option<String>,
    escalated_traceparent: Option<String>,
    redispatched_traceparent: Option<String>,
}

impl From<StepTracesRow> for StepTraces {
    fn from(row: StepTracesRow) -> Self {
        StepTraces {
            opened: row.opened_traceparent,
            assigned: row.assigned_traceparent,
            picked_up: row.picked_up_traceparent,
            delivered: row.delivered_traceparent,
            escalated: row.escalated_traceparent,
            redispatched: row.redispatched_traceparent,
        }
    }
}

/// The traces of the delivery's steps; none for an unknown delivery.
pub async fn step_traces(db: &Db, delivery_id: Uuid) -> Result<StepTraces, Error> {
    let row: Option<StepTracesRow> = db
        .fetch_optional(
            "SELECT opened_traceparent, assigned_traceparent, picked_up_traceparent,
                delivered_traceparent, escalated_traceparent, redispatched_traceparent
         FROM deliveries WHERE id = $1",
            params![delivery_id],
        )
        .await?;
    Ok(row.map(StepTraces::from).unwrap_or_default())
}

/// Every offer of the delivery, oldest first.
pub async fn offers(db: &Db, delivery_id: Uuid) -> Result<Vec<OfferStep>, Error> {
    db.fetch_all(
        "SELECT courier_id, status, distance_km, created_at, expires_at, answered_at,
                made_traceparent, answered_traceparent FROM offers
         WHERE delivery_id = $1 ORDER BY created_at, id",
        params![delivery_id],
    )
    .await
}

/// When the courier last reported a position (only the last one is kept), and the trace
/// of that report.
pub async fn located_at(
    db: &Db,
    courier_id: Uuid,
) -> Result<Option<(OffsetDateTime, Option<String>)>, Error> {
    let row: Option<(Option<OffsetDateTime>, Option<String>)> = db
        .fetch_optional(
            "SELECT located_at, located_traceparent FROM couriers WHERE courier_id = $1",
            params![courier_id],
        )
        .await?;
    Ok(row.and_then(|(at, trace)| at.map(|at| (at, trace))))
}
