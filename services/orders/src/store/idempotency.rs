//! Idempotency keys of `POST /orders`: claimed before the work with the order id the
//! checkout reserves stock for, completed with the answer in the order's own transaction
//! only while the claim is still that checkout's.

use ordo_db::row::{millis, opt_uuid};
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: go on. `abandoned` is the order id of an earlier request
    /// with this key that died holding the claim; its stock must go back.
    Claimed { abandoned: Option<Uuid> },
    /// The same key was used with another body.
    OtherRequest,
    /// The first request with this key is still running.
    Running,
    /// Done before: this was its answer.
    Done { status: u16, body: String },
}

/// Claims `key` for the request whose canonical hash is `hash`, reserving stock as
/// `order_id`. A claim left running since before `stale` (its request died) is taken over.
pub async fn claim(
    conn: &mut AnyConnection,
    customer_id: Uuid,
    key: &str,
    hash: &str,
    order_id: Uuid,
    now: OffsetDateTime,
    stale: OffsetDateTime,
) -> Result<Claim, sqlx::Error> {
    let fresh = sqlx::query(
        "INSERT INTO idempotency_keys (customer_id, key, request_hash, status, order_id, created_at)
         VALUES ($1, $2, $3, 'running', $4, $5)
         ON CONFLICT (customer_id, key) DO NOTHING",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(hash)
    .bind(order_id.to_string())
    .bind(millis(now))
    .execute(&mut *conn)
    .await?;
    // The common case, a key never seen, costs one statement.
    if fresh.rows_affected() == 1 {
        return Ok(Claim::Claimed { abandoned: None });
    }
    let before =
        sqlx::query("SELECT order_id FROM idempotency_keys WHERE customer_id = $1 AND key = $2")
            .bind(customer_id.to_string())
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    let claimed = sqlx::query(
        "UPDATE idempotency_keys SET created_at = $4, order_id = $5
         WHERE customer_id = $1 AND key = $2 AND request_hash = $3
           AND status = 'running' AND created_at < $6",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(hash)
    .bind(millis(now))
    .bind(order_id.to_string())
    .bind(millis(stale))
    .execute(&mut *conn)
    .await?;
    if claimed.rows_affected() == 1 {
        let abandoned = match &before {
            Some(row) => opt_uuid(row, "order_id")?,
            None => None,
        };
        return Ok(Claim::Claimed { abandoned });
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

/// Stores the answer, in the same transaction as the order it describes. False when the
/// claim is no longer this checkout's (its request took too long and a retry took over,
/// or the sweep gave it up): the order must then not be written.
pub async fn complete<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer_id: Uuid,
    key: &str,
    order_id: Uuid,
    status: u16,
    body: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET status = 'done', response_status = $4, response_body = $5
         WHERE customer_id = $1 AND key = $2 AND order_id = $3 AND status = 'running'",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(order_id.to_string())
    .bind(i64::from(status))
    .bind(body)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives up the claim of the checkout reserving as `order_id`, so that the key may be used
/// again. False when the claim is not that checkout's any more.
pub async fn release<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer_id: Uuid,
    key: &str,
    order_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM idempotency_keys
         WHERE customer_id = $1 AND key = $2 AND order_id = $3 AND status = 'running'",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(order_id.to_string())
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A claim whose request died: the key and the order id it reserved stock for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleClaim {
    pub customer_id: Uuid,
    pub key: String,
    pub order_id: Uuid,
}

/// Claims still running that were made before `stale`, oldest first.
pub async fn stale<'c>(
    executor: impl Executor<'c, Database = Any>,
    stale: OffsetDateTime,
    limit: i64,
) -> Result<Vec<StaleClaim>, sqlx::Error> {
    sqlx::query(
        "SELECT customer_id, key, order_id FROM idempotency_keys
         WHERE status = 'running' AND created_at < $1 AND order_id IS NOT NULL
         ORDER BY created_at LIMIT $2",
    )
    .bind(millis(stale))
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        Ok(StaleClaim {
            customer_id: ordo_db::row::uuid(row, "customer_id")?,
            key: row.try_get("key")?,
            order_id: ordo_db::row::uuid(row, "order_id")?,
        })
    })
    .collect()
}
