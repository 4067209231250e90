use ordo_db::row::{self, millis};
use sqlx::{Any, Executor};
use time::OffsetDateTime;
use uuid::Uuid;

/// A refresh token as stored: only the hash of the secret.
#[derive(Debug, Clone)]
pub struct NewRefreshToken<'a> {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub token_hash: &'a str,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    token: &NewRefreshToken<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.id.to_string())
    .bind(token.family_id.to_string())
    .bind(token.user_id.to_string())
    .bind(token.token_hash)
    .bind(millis(token.created_at))
    .bind(millis(token.expires_at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// Marks a live token spent, in one conditional update so that two concurrent refreshes
/// with the same token cannot both succeed. Returns `(user, family)` when it was live.
pub async fn spend<'c>(
    executor: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE refresh_tokens SET spent_at = $1
         WHERE token_hash = $2 AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > $1
         RETURNING user_id, family_id",
    )
    .bind(millis(now))
    .bind(token_hash)
    .fetch_optional(executor)
    .await?;
    row.map(|row| Ok((row::uuid(&row, "user_id")?, row::uuid(&row, "family_id")?)))
        .transpose()
}

/// The `(user, family)` a token belongs to, whatever its state.
pub async fn owner<'c>(
    executor: impl Executor<'c, Database = Any>,
    token_hash: &str,
) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    let row = sqlx::query("SELECT user_id, family_id FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(executor)
        .await?;
    row.map(|row| Ok((row::uuid(&row, "user_id")?, row::uuid(&row, "family_id")?)))
        .transpose()
}

pub async fn revoke_family<'c>(
    executor: impl Executor<'c, Database = Any>,
    family_id: Uuid,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(millis(now))
    .bind(family_id.to_string())
    .execute(executor)
    .await
    .map(|r| r.rows_affected())
}

pub async fn revoke_user<'c>(
    executor: impl Executor<'c, Database = Any>,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(millis(now))
    .bind(user_id.to_string())
    .execute(executor)
    .await
    .map(|r| r.rows_affected())
}

/// Forgets tokens that expired before `cutoff`; they can no longer be replayed anyway.
pub async fn delete_expired<'c>(
    executor: impl Executor<'c, Database = Any>,
    cutoff: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
        .bind(millis(cutoff))
        .execute(executor)
        .await
        .map(|r| r.rows_affected())
}
