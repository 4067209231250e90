//! Password-reset links: only their token's hash, who it is for (none for an address
//! without an account), when it expires and when it was used.

use ordo_db::{Db, Tx, params};
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

pub async fn insert(tx: &mut Tx, reset: &NewReset<'_>) -> Result<(), ordo_db::Error> {
    tx.execute(
        "INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        params![
            reset.id,
            reset.user_id,
            reset.token_hash,
            reset.created_at,
            reset.expires_at,
        ],
    )
    .await
    .map(drop)
}

/// The user a link is for, while it can be used: not used, not expired, for someone.
pub async fn usable(
    db: &Db,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<Uuid>, ordo_db::Error> {
    let row: Option<(Uuid,)> = db
        .fetch_optional(
            "SELECT user_id FROM password_resets
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 AND user_id IS NOT NULL",
            params![token_hash, now],
        )
        .await?;
    Ok(row.map(|(user_id,)| user_id))
}

/// Uses the link, in one conditional update so that of two requests with it one alone
/// succeeds. The user it was for, when it could be used.
pub async fn spend(
    tx: &mut Tx,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<Uuid>, ordo_db::Error> {
    let row: Option<(Uuid,)> = tx
        .fetch_optional(
            "UPDATE password_resets SET used_at = $1
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 AND user_id IS NOT NULL
             RETURNING user_id",
            params![now, token_hash],
        )
        .await?;
    Ok(row.map(|(user_id,)| user_id))
}

/// Uses the user's other links too: once the password is set, older links are void.
pub async fn spend_all(
    tx: &mut Tx,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<u64, ordo_db::Error> {
    tx.execute(
        "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
        params![now, user_id],
    )
    .await
}

/// Forgets links that expired before `cutoff`.
pub async fn delete_expired(tx: &mut Tx, cutoff: OffsetDateTime) -> Result<u64, ordo_db::Error> {
    tx.execute(
        "DELETE FROM password_resets WHERE expires_at < $1",
        params![cutoff],
    )
    .await
}
