//! What was sent about an order, on every channel, for its timeline.

use ordo_db::{Db, Error, FromRow, params};
use time::OffsetDateTime;

/// One message about the order on one channel.
#[derive(Debug, Clone, FromRow)]
pub struct Sent {
    /// `in_app`, `email` or `sms`.
    pub channel: String,
    pub kind: String,
    pub title: String,
    /// `customer`, `staff` (the merchant's) or `courier` (offered it or carrying it).
    pub recipient: String,
    /// `sent` or `failed`; always `sent` in the inbox.
    pub status: String,
    pub error: Option<String>,
    pub at: OffsetDateTime,
    /// The trace of the event the message answers.
    pub trace_id: Option<String>,
}

/// Every message about the order, on every channel, in time order.
pub async fn sent(db: &Db, order_id: uuid::Uuid) -> Result<Vec<Sent>, Error> {
    db.fetch_all(
        "SELECT m.channel, n.kind, n.title, m.status, m.error, m.at, n.trace_id,
                CASE WHEN p.customer_id = n.user_id THEN 'customer'
                     WHEN CAST(p.staff AS TEXT) LIKE '%' || CAST(n.user_id AS TEXT) || '%' THEN 'staff' ELSE 'courier' END AS recipient
         FROM (SELECT 'in_app' AS channel, id AS notification_id, 'sent' AS status, NULL AS error, created_at AS at, id
               FROM notifications WHERE order_id = $1
               UNION ALL
               SELECT 'email', e.notification_id, e.status, e.error, e.at, e.id
               FROM email_attempts e JOIN notifications o ON o.id = e.notification_id WHERE o.order_id = $1
               UNION ALL
               SELECT 'sms', s.notification_id, s.status, s.error, s.at, s.id
               FROM sms_messages s JOIN notifications o ON o.id = s.notification_id WHERE o.order_id = $1) m
         JOIN notifications n ON n.id = m.notification_id
         LEFT JOIN order_parties p ON p.order_id = n.order_id
         ORDER BY m.at, m.id",
        params![order_id],
    )
    .await
}
