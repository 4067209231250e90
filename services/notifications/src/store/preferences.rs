//! Each user's choice of channels per topic; a topic without a row keeps the defaults.

use crate::domain::{Channels, Topic};
use ordo_db::{Error, Executor, FromRow, Tx, params};
use time::OffsetDateTime;
use uuid::Uuid;

/// A choice as stored; its topic is read as text (see `choice`).
#[derive(FromRow)]
struct ChoiceRow {
    topic: String,
    email: bool,
    sms: bool,
}

impl ChoiceRow {
    fn choice(self) -> Option<(Topic, Channels)> {
        // A topic this version no longer knows is nobody's choice any more.
        Topic::parse(&self.topic).map(|topic| {
            let channels = Channels {
                email: self.email,
                sms: self.sms,
            };
            (topic, channels)
        })
    }
}

/// What the user chose so far.
pub async fn chosen(mut db: impl Executor, user: Uuid) -> Result<Vec<(Topic, Channels)>, Error> {
    let rows: Vec<ChoiceRow> = db
        .fetch_all(
            "SELECT topic, email, sms FROM notification_preferences WHERE user_id = $1",
            params![user],
        )
        .await?;
    Ok(rows.into_iter().filter_map(ChoiceRow::choice).collect())
}

/// The channels the user chose for `topic`, or the defaults.
pub async fn channels(tx: &mut Tx, user: Uuid, topic: Topic) -> Result<Channels, Error> {
    let row: Option<ChoiceRow> = tx
        .fetch_optional(
            "SELECT topic, email, sms FROM notification_preferences WHERE user_id = $1 AND topic = $2",
            params![user, topic.as_str()],
        )
        .await?;
    Ok(row
        .and_then(ChoiceRow::choice)
        .map_or(Channels::DEFAULT, |(_, channels)| channels))
}

/// Keeps `channels` as the user's choice for `topic`.
pub async fn choose(
    tx: &mut Tx,
    user: Uuid,
    topic: Topic,
    channels: Channels,
    at: OffsetDateTime,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO notification_preferences (user_id, topic, email, sms, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, topic)
         DO UPDATE SET email = excluded.email, sms = excluded.sms, updated_at = excluded.updated_at",
        params![user, topic.as_str(), channels.email, channels.sms, at],
    )
    .await
    .map(drop)
}
