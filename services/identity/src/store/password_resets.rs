//! Password-reset links: only their token's hash, who it is for (none for an address
//! without an account), when it expires and when it was used.

use ordo_db::row::{self, millis};
use sqlx::{Any, Executor};
use time::OffsetDateTime;
use uuid::Uuid;

/// A link as stored.
#[derive(Debug, Clone)]
pub struct NewReset<'a> {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub token_hash: &'a str,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    reset: &NewReset<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(reset.id.to_string())
    .bind(reset.user_id.map(|id| id.to_string()))
    .bind(reset.token_hash)
    .bind(millis(reset.created_at))
    .bind(millis(reset.expires_at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// The user a link is for, while it can be used: not used, not expired, for someone.
pub async fn usable<'c>(
    executor: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query(
        "SELECT user_id FROM password_resets
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND user_id IS NOT NULL",
    )
    .bind(token_hash)
    .bind(millis(now))
    .fetch_optional(executor)
    .await?
    .map(|row| row::uuid(&row, "user_id"))
    .transpose()
}

/// Uses the link, in one conditional update so that of two requests with it one alone
/// succeeds. The user it was for, when it could be used.
pub async fn spend<'c>(
    executor: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query(
        "UPDATE password_resets SET used_at = $1
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 AND user_id IS NOT NULL
         RETURNING user_id",
    )
    .bind(millis(now))
    .bind(token_hash)
    .fetch_optional(executor)
    .await?
    .map(|row| row::uuid(&row, "user_id"))
    .transpose()
}

/// Uses the user's other links too: once the password is set, older links are void.
pub async fn spend_all<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
        .bind(millis(now))
        .bind(user_id.to_string())
        .execute(executor)
        .await
        .map(|r| r.rows_affected())
}

/// Forgets links that expired before `cutoff`.
pub async fn delete_expired<'c>(
    executor: impl Executor<'c, Database = Any>,
    cutoff: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM password_resets WHERE expires_at < $1")
        .bind(millis(cutoff))
        .execute(executor)
        .await
        .map(|r| r.rows_affected())
}
