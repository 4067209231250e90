//! Text messages sent, or tried: each attempt with its message.

use ordo_db::row::{self, millis};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

/// One attempt to send a text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsRecord {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub user_id: Uuid,
    pub phone: String,
    pub body: String,
    pub provider: String,
    /// Why it failed; `None` when the provider took it.
    pub error: Option<String>,
    pub at: OffsetDateTime,
}

const COLUMNS: &str = "id, notification_id, user_id, phone, body, provider, error, at";

fn record(row: &AnyRow) -> Result<SmsRecord, sqlx::Error> {
    Ok(SmsRecord {
        id: row::uuid(row, "id")?,
        notification_id: row::uuid(row, "notification_id")?,
        user_id: row::uuid(row, "user_id")?,
        phone: row.try_get("phone")?,
        body: row.try_get("body")?,
        provider: row.try_get("provider")?,
        error: row.try_get("error")?,
        at: row::instant(row, "at")?,
    })
}

pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    sms: &SmsRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sms_messages (id, notification_id, user_id, phone, body, provider, status, error, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(sms.id.to_string())
    .bind(sms.notification_id.to_string())
    .bind(sms.user_id.to_string())
    .bind(&sms.phone)
    .bind(&sms.body)
    .bind(&sms.provider)
    .bind(if sms.error.is_some() { "failed" } else { "sent" })
    .bind(sms.error.as_deref())
    .bind(millis(sms.at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// Text messages newest first, of one user or of everyone, after the cursor `before`.
pub async fn page<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Option<Uuid>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<SmsRecord>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sms_messages WHERE ($1 IS NULL OR user_id = $1)
         AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    ))
    .bind(user.map(|id| id.to_string()))
    .bind(before.map(|id| id.to_string()))
    .bind(fetch)
    .fetch_all(executor)
    .await?
    .iter()
    .map(record)
    .collect()
}
