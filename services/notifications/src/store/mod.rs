//! The inbox, the order parties, the channels each user chose and the messages sent, the
//! same SQL on SQLite and PostgreSQL.

pub mod preferences;
pub mod sms;
pub mod timeline;

use crate::app::Cause;
use crate::domain::Message;
use crate::domain::Notification;
use ordo_db::row::{self, millis};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "id, user_id, kind, title, body, order_id, read_at, created_at";

fn notification(row: &AnyRow) -> Result<Notification, sqlx::Error> {
    Ok(Notification {
        id: row::uuid(row, "id")?,
        user_id: row::uuid(row, "user_id")?,
        kind: row.try_get("kind")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        order_id: row::opt_uuid(row, "order_id")?,
        read_at: row::opt_instant(row, "read_at")?,
        created_at: row::instant(row, "created_at")?,
    })
}

/// Files `message` for `user`, once per causing event; the new notification's id, or
/// `None` when this event filed it before.
pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
    message: &Message,
    order_id: Uuid,
    cause: Cause,
    at: OffsetDateTime,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, title, body, order_id, event_id, created_at, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (user_id, event_id) DO NOTHING RETURNING id",
    )
    .bind(ordo_kernel::new_id().to_string())
    .bind(user.to_string())
    .bind(message.kind)
    .bind(&message.title)
    .bind(&message.body)
    .bind(order_id.to_string())
    .bind(cause.event_id.to_string())
    .bind(millis(at))
    .bind(cause.trace.map(|trace| trace.trace_id_hex()))
    .fetch_optional(executor)
    .await?
    .map(|row| row::uuid(&row, "id"))
    .transpose()
}

/// Records an attempt to email a notification.
pub async fn email_attempt<'c>(
    executor: impl Executor<'c, Database = Any>,
    notification_id: Uuid,
    error: Option<&str>,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO email_attempts (id, notification_id, status, error, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(ordo_kernel::new_id().to_string())
        .bind(notification_id.to_string())
        .bind(if error.is_some() { "failed" } else { "sent" })
        .bind(error)
        .bind(millis(at))
        .execute(executor)
        .await
        .map(|_| ())
}

/// A failed attempt to send, recorded apart from the handler that made it.
#[derive(Debug, Clone)]
pub enum Attempt {
    Email {
        notification_id: Uuid,
        error: String,
        at: OffsetDateTime,
    },
    Sms(sms::SmsRecord),
}

impl Attempt {
    pub async fn record<'c>(
        &self,
        executor: impl Executor<'c, Database = Any>,
    ) -> Result<(), sqlx::Error> {
        match self {
            Attempt::Email {
                notification_id,
                error,
                at,
            } => email_attempt(executor, *notification_id, Some(error), *at).await,
            Attempt::Sms(record) => sms::insert(executor, record).await,
        }
    }
}

/// The user's notifications, newest first, after the cursor `before`.
pub async fn page<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
    unread_only: bool,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL)
         AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    ))
    .bind(user.to_string())
    .bind(i64::from(unread_only))
    .bind(before.map(|id| id.to_string()))
    .bind(fetch)
    .fetch_all(executor)
    .await?
    .iter()
    .map(notification)
    .collect()
}

/// The id of the user's newest notification: where a fresh stream starts.
pub async fn latest<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query("SELECT id FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(user.to_string())
        .fetch_optional(executor)
        .await?
        .map(|row| ordo_db::row::uuid(&row, "id"))
        .transpose()
}

/// Whether `id` is one of the user's notifications.
pub async fn is_theirs<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM notifications WHERE user_id = $1 AND id = $2")
            .bind(user.to_string())
            .bind(id.to_string())
            .fetch_optional(executor)
            .await?
            .is_some(),
    )
}

/// How many notifications a live stream reads at a time.
pub const PAGE: usize = 100;

/// The user's notifications newer than `after`, oldest first, a page at a time: what a
/// live stream sends next.
pub async fn newer<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
    after: Option<Uuid>,
) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT {PAGE}"
    ))
    .bind(user.to_string())
    .bind(after.map(|id| id.to_string()))
    .fetch_all(executor)
    .await?
    .iter()
    .map(notification)
    .collect()
}

/// Marks it read; false when it is not the user's.
pub async fn mark_read<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2",
    )
    .bind(id.to_string())
    .bind(user.to_string())
    .bind(millis(at))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks every unread notification of the user read; how many there were.
pub async fn mark_all_read<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
    at: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
        .bind(user.to_string())
        .bind(millis(at))
        .execute(executor)
        .await
        .map(|done| done.rows_affected())
}

/// Who an order concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties {
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    pub staff: Vec<Uuid>,
    /// The courier carrying a delivery order, once one took it.
    pub courier_id: Option<Uuid>,
}

pub async fn remember_parties<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    parties: &Parties,
) -> Result<(), sqlx::Error> {
    let staff =
        serde_json::to_string(&parties.staff).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO order_parties (order_id, customer_id, merchant_id, staff) VALUES ($1, $2, $3, $4)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id.to_string())
    .bind(parties.customer_id.to_string())
    .bind(parties.merchant_id.to_string())
    .bind(staff)
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn parties<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
) -> Result<Option<Parties>, sqlx::Error> {
    sqlx::query(
        "SELECT customer_id, merchant_id, staff, courier_id FROM order_parties WHERE order_id = $1",
    )
    .bind(order_id.to_string())
    .fetch_optional(executor)
    .await?
    .map(|row| {
        let staff: String = row.try_get("staff")?;
        Ok(Parties {
            customer_id: row::uuid(&row, "customer_id")?,
            merchant_id: row::uuid(&row, "merchant_id")?,
            staff: serde_json::from_str(&staff).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            courier_id: row::opt_uuid(&row, "courier_id")?,
        })
    })
    .transpose()
}

/// Records the courier carrying the order.
pub async fn remember_courier<'c>(
    executor: impl Executor<'c, Database = Any>,
    order_id: Uuid,
    courier_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE order_parties SET courier_id = $2 WHERE order_id = $1")
        .bind(order_id.to_string())
        .bind(courier_id.to_string())
        .execute(executor)
        .await
        .map(|_| ())
}
