//! Each user's choice of channels per topic; a topic without a row keeps the defaults.

use crate::domain::{Channels, Topic};
use ordo_db::row::millis;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

fn choice(row: &AnyRow) -> Result<Option<(Topic, Channels)>, sqlx::Error> {
    let topic: String = row.try_get("topic")?;
    let email: i64 = row.try_get("email")?;
    let sms: i64 = row.try_get("sms")?;
    // A topic this version no longer knows is nobody's choice any more.
    Ok(Topic::parse(&topic).map(|topic| {
        let channels = Channels {
            email: email == 1,
            sms: sms == 1,
        };
        (topic, channels)
    }))
}

/// What the user chose so far.
pub async fn chosen<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
) -> Result<Vec<(Topic, Channels)>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT topic, email, sms FROM notification_preferences WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_all(executor)
            .await?;
    let mut chosen = Vec::with_capacity(rows.len());
    for row in &rows {
        chosen.extend(choice(row)?);
    }
    Ok(chosen)
}

/// The channels the user chose for `topic`, or the defaults.
pub async fn channels<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
    topic: Topic,
) -> Result<Channels, sqlx::Error> {
    let row = sqlx::query(
        "SELECT topic, email, sms FROM notification_preferences WHERE user_id = $1 AND topic = $2",
    )
    .bind(user.to_string())
    .bind(topic.as_str())
    .fetch_optional(executor)
    .await?;
    Ok(match row {
        Some(row) => choice(&row)?.map_or(Channels::DEFAULT, |(_, channels)| channels),
        None => Channels::DEFAULT,
    })
}

/// Keeps `channels` as the user's choice for `topic`.
pub async fn choose<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: Uuid,
    topic: Topic,
    channels: Channels,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notification_preferences (user_id, topic, email, sms, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, topic)
         DO UPDATE SET email = excluded.email, sms = excluded.sms, updated_at = excluded.updated_at",
    )
    .bind(user.to_string())
    .bind(topic.as_str())
    .bind(i64::from(channels.email))
    .bind(i64::from(channels.sms))
    .bind(millis(at))
    .execute(executor)
    .await
    .map(|_| ())
}
