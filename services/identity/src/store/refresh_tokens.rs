use ordo_db::{Tx, params};
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

pub async fn insert(tx: &mut Tx, token: &NewRefreshToken<'_>) -> Result<(), ordo_db::Error> {
    tx.execute(
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            token.id,
            token.family_id,
            token.user_id,
            token.token_hash,
            token.created_at,
            token.expires_at,
        ],
    )
    .await
    .map(drop)
}

/// Marks a live token spent, in one conditional update so that two concurrent refreshes
/// with the same token cannot both succeed. Returns `(user, family)` when it was live.
pub async fn spend(
    tx: &mut Tx,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<(Uuid, Uuid)>, ordo_db::Error> {
    tx.fetch_optional(
        "UPDATE refresh_tokens SET spent_at = $1
             WHERE token_hash = $2 AND spent_at IS NULL AND revoked_at IS NULL AND expires_at > $1
             RETURNING user_id, family_id",
        params![now, token_hash],
    )
    .await
}

/// The `(user, family)` a token belongs to, whatever its state.
pub async fn owner(tx: &mut Tx, token_hash: &str) -> Result<Option<(Uuid, Uuid)>, ordo_db::Error> {
    tx.fetch_optional(
        "SELECT user_id, family_id FROM refresh_tokens WHERE token_hash = $1",
        params![token_hash],
    )
    .await
}

pub async fn revoke_family(
    tx: &mut Tx,
    family_id: Uuid,
    now: OffsetDateTime,
) -> Result<u64, ordo_db::Error> {
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        params![now, family_id],
    )
    .await
}

pub async fn revoke_user(
    tx: &mut Tx,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<u64, ordo_db::Error> {
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        params![now, user_id],
    )
    .await
}

/// Forgets tokens that expired before `cutoff`; they can no longer be replayed anyway.
pub async fn delete_expired(tx: &mut Tx, cutoff: OffsetDateTime) -> Result<u64, ordo_db::Error> {
    tx.execute(
        "DELETE FROM refresh_tokens WHERE expires_at < $1",
        params![cutoff],
    )
    .await
}
