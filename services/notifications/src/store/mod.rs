//! The inbox, the order parties, the channels each user chose and the messages sent, the
//! same SQL on SQLite and PostgreSQL.

pub mod preferences;
pub mod sms;
pub mod timeline;

#[cfg(test)]
mod tests;

use crate::app::Cause;
use crate::domain::Message;
use crate::domain::Notification;
use ordo_db::{Db, Error, FromRow, Json, Tx, params};
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str = "id, user_id, kind, title, body, order_id, read_at, created_at";

#[derive(FromRow)]
struct NotificationRow {
    id: Uuid,
    user_id: Uuid,
    kind: String,
    title: String,
    body: String,
    order_id: Option<Uuid>,
    read_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

impl From<NotificationRow> for Notification {
    fn from(row: NotificationRow) -> Self {
        Notification {
            id: row.id,
            user_id: row.user_id,
            kind: row.kind,
            title: row.title,
            body: row.body,
            order_id: row.order_id,
            read_at: row.read_at,
            created_at: row.created_at,
        }
    }
}

/// Files `message` for `user`, once per causing event; the new notification's id, or
/// `None` when this event filed it before.
pub async fn insert(
    tx: &mut Tx,
    user: Uuid,
    message: &Message,
    order_id: Uuid,
    cause: Cause,
    at: OffsetDateTime,
) -> Result<Option<Uuid>, Error> {
    let filed: Option<(Uuid,)> = tx
        .fetch_optional(
            "INSERT INTO notifications (id, user_id, kind, title, body, order_id, event_id, created_at, trace_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (user_id, event_id) DO NOTHING RETURNING id",
            params![
                ordo_kernel::new_id(),
                user,
                message.kind,
                message.title,
                message.body,
                order_id,
                cause.event_id,
                at,
                cause.trace.map(|trace| trace.trace_id_hex()),
            ],
        )
        .await?;
    Ok(filed.map(|(id,)| id))
}

/// Records an attempt to email a notification.
pub async fn email_attempt(
    tx: &mut Tx,
    notification_id: Uuid,
    error: Option<&str>,
    at: OffsetDateTime,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO email_attempts (id, notification_id, status, error, at) VALUES ($1, $2, $3, $4, $5)",
        params![
            ordo_kernel::new_id(),
            notification_id,
            if error.is_some() { "failed" } else { "sent" },
            error,
            at,
        ],
    )
    .await
    .map(drop)
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
    pub async fn record(&self, tx: &mut Tx) -> Result<(), Error> {
        match self {
            Attempt::Email {
                notification_id,
                error,
                at,
            } => email_attempt(tx, *notification_id, Some(error), *at).await,
            Attempt::Sms(record) => sms::insert(tx, record).await,
        }
    }
}

/// The user's notifications, newest first, after the cursor `before`.
pub async fn page(
    db: &Db,
    user: Uuid,
    unread_only: bool,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Notification>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)
         AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    );
    let rows: Vec<NotificationRow> = db
        .fetch_all(&sql, params![user, unread_only, before, fetch])
        .await?;
    Ok(rows.into_iter().map(Notification::from).collect())
}

/// The id of the user's newest notification: where a fresh stream starts.
pub async fn latest(db: &Db, user: Uuid) -> Result<Option<Uuid>, Error> {
    let newest: Option<(Uuid,)> = db
        .fetch_optional(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1",
            params![user],
        )
        .await?;
    Ok(newest.map(|(id,)| id))
}

/// Whether `id` is one of the user's notifications.
pub async fn is_theirs(db: &Db, user: Uuid, id: Uuid) -> Result<bool, Error> {
    let found: Option<(i64,)> = db
        .fetch_optional(
            "SELECT 1 FROM notifications WHERE user_id = $1 AND id = $2",
            params![user, id],
        )
        .await?;
    Ok(found.is_some())
}

/// How many notifications a live stream reads at a time.
pub const PAGE: usize = 100;

/// The user's notifications newer than `after`, oldest first, a page at a time: what a
/// live stream sends next.
pub async fn newer(db: &Db, user: Uuid, after: Option<Uuid>) -> Result<Vec<Notification>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT {PAGE}"
    );
    let rows: Vec<NotificationRow> = db.fetch_all(&sql, params![user, after]).await?;
    Ok(rows.into_iter().map(Notification::from).collect())
}

/// Marks it read; false when it is not the user's.
pub async fn mark_read(
    tx: &mut Tx,
    user: Uuid,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2",
            params![id, user, at],
        )
        .await?;
    Ok(changed == 1)
}

/// Marks every unread notification of the user read; how many there were.
pub async fn mark_all_read(tx: &mut Tx, user: Uuid, at: OffsetDateTime) -> Result<u64, Error> {
    tx.execute(
        "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL",
        params![user, at],
    )
    .await
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

#[derive(FromRow)]
struct PartiesRow {
    customer_id: Uuid,
    merchant_id: Uuid,
    staff: Json<Vec<Uuid>>,
    courier_id: Option<Uuid>,
}

impl From<PartiesRow> for Parties {
    fn from(row: PartiesRow) -> Self {
        Parties {
            customer_id: row.customer_id,
            merchant_id: row.merchant_id,
            staff: row.staff.0,
            courier_id: row.courier_id,
        }
    }
}

pub async fn remember_parties(tx: &mut Tx, order_id: Uuid, parties: &Parties) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO order_parties (order_id, customer_id, merchant_id, staff) VALUES ($1, $2, $3, $4)
         ON CONFLICT (order_id) DO NOTHING",
        params![
            order_id,
            parties.customer_id,
            parties.merchant_id,
            Json(&parties.staff),
        ],
    )
    .await
    .map(drop)
}

pub async fn parties(tx: &mut Tx, order_id: Uuid) -> Result<Option<Parties>, Error> {
    let row: Option<PartiesRow> = tx
        .fetch_optional(
            "SELECT customer_id, merchant_id, staff, courier_id FROM order_parties WHERE order_id = $1",
            params![order_id],
        )
        .await?;
    Ok(row.map(Parties::from))
}

/// Records the courier carrying the order.
pub async fn remember_courier(tx: &mut Tx, order_id: Uuid, courier_id: Uuid) -> Result<(), Error> {
    tx.execute(
        "UPDATE order_parties SET courier_id = $2 WHERE order_id = $1",
        params![order_id, courier_id],
    )
    .await
    .map(drop)
}
