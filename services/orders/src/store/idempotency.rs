//! Idempotency keys of `POST /orders`: claimed before the work, completed with the answer
//! in the work's own transaction.

use ordo_db::row::millis;
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: go on.
    Claimed,
    /// The same key was used with another body.
    OtherRequest,
    /// The first request with this key is still running.
    Running,
    /// Done before: this was its answer.
    Done { status: u16, body: String },
}

/// Claims `key` for the request whose canonical hash is `hash`. A claim left running
/// longer than `stale` (its process died) is taken over.
pub async fn claim(
    conn: &mut AnyConnection,
    customer_id: Uuid,
    key: &str,
    hash: &str,
    now: OffsetDateTime,
    stale: OffsetDateTime,
) -> Result<Claim, sqlx::Error> {
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (customer_id, key, request_hash, status, created_at)
         VALUES ($1, $2, $3, 'running', $4)
         ON CONFLICT (customer_id, key) DO UPDATE SET created_at = excluded.created_at
           WHERE idempotency_keys.status = 'running' AND idempotency_keys.created_at < $5
             AND idempotency_keys.request_hash = excluded.request_hash",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(hash)
    .bind(millis(now))
    .bind(millis(stale))
    .execute(&mut *conn)
    .await?;
    if claimed.rows_affected() == 1 {
        return Ok(Claim::Claimed);
    }
    let row = sqlx::query(
        "SELECT request_hash, status, response_status, response_body FROM idempotency_keys
         WHERE customer_id = $1 AND key = $2",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .fetch_one(conn)
    .await?;
    let stored_hash: String = row.try_get("request_hash")?;
    if stored_hash != hash {
        return Ok(Claim::OtherRequest);
    }
    let status: String = row.try_get("status")?;
    if status == "running" {
        return Ok(Claim::Running);
    }
    let code: i64 = row.try_get("response_status")?;
    Ok(Claim::Done {
        status: u16::try_from(code).unwrap_or(500),
        body: row.try_get("response_body")?,
    })
}

/// Stores the answer; in the same transaction as the order it describes.
pub async fn complete(
    conn: &mut AnyConnection,
    customer_id: Uuid,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = 'done', response_status = $3, response_body = $4
         WHERE customer_id = $1 AND key = $2",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(i64::from(status))
    .bind(body)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Gives the key up: the request failed without an effect and may be sent again.
pub async fn release<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer_id: Uuid,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE customer_id = $1 AND key = $2 AND status = 'running'",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .execute(executor)
    .await
    .map(|_| ())
}
