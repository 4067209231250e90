//! Text messages sent, or tried: each attempt with its message.

use ordo_db::{Db, Error, FromRow, Tx, params};
use time::OffsetDateTime;
use uuid::Uuid;

/// One attempt to send a text message.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
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

pub async fn insert(tx: &mut Tx, sms: &SmsRecord) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO sms_messages (id, notification_id, user_id, phone, body, provider, status, error, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        params![
            sms.id,
            sms.notification_id,
            sms.user_id,
            sms.phone,
            sms.body,
            sms.provider,
            if sms.error.is_some() { "failed" } else { "sent" },
            sms.error,
            sms.at,
        ],
    )
    .await
    .map(drop)
}

/// Text messages newest first, of one user or of everyone, after the cursor `before`.
pub async fn page(
    db: &Db,
    user: Option<Uuid>,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<SmsRecord>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sms_messages WHERE ($1 IS NULL OR user_id = $1)
         AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    db.fetch_all(&sql, params![user, before, fetch]).await
}
