//! Idempotency keys of `POST /orders`: claimed before the work with the order id the
//! checkout reserves stock for, completed with the answer in the order's own transaction
//! only while the claim is still that checkout's.
//!
//! The order id belongs to the key from its first claim on: a retry that takes over the
//! claim of a request that died keeps it, so the stock that request may have reserved is
//! found again (reserving is idempotent by order id) instead of held twice. A claim is
//! known by its order id and the instant it was (re)taken, so a request that was slow
//! past the takeover can no longer complete or release what is now the retry's.

use ordo_db::row::{instant, millis};
use sqlx::{Any, AnyConnection, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

/// A running claim: the checkout that holds it reserves stock as `order_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub order_id: Uuid,
    /// When this request took the claim; it tells it from an earlier holder's.
    pub since: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: go on, reserving as `held.order_id`. `resumed` when an
    /// earlier request with this key died holding it: the same order id, whose stock that
    /// request may already hold.
    Claimed { held: Held, resumed: bool },
    /// The same key was used with another body.
    OtherRequest,
    /// The first request with this key is still running.
    Running,
    /// Done before: this was its answer.
    Done { status: u16, body: String },
}

/// Claims `key` for the request whose canonical hash is `hash`; a fresh claim reserves as
/// `order_id`. A claim left running since before `stale` (its request died) is taken over
/// with the order id it already had.
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
        let held = Held {
            order_id,
            since: as_stored(now),
        };
        return Ok(Claim::Claimed {
            held,
            resumed: false,
        });
    }
    let row = sqlx::query(
        "SELECT request_hash, status, order_id, created_at, response_status, response_body
         FROM idempotency_keys WHERE customer_id = $1 AND key = $2",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .fetch_one(&mut *conn)
    .await?;
    let stored_hash: String = row.try_get("request_hash")?;
    if stored_hash != hash {
        return Ok(Claim::OtherRequest);
    }
    let status: String = row.try_get("status")?;
    if status == "done" {
        let code: i64 = row.try_get("response_status")?;
        return Ok(Claim::Done {
            status: u16::try_from(code).unwrap_or(500),
            body: row.try_get("response_body")?,
        });
    }
    let since = instant(&row, "created_at")?;
    if since >= stale {
        return Ok(Claim::Running);
    }
    // Conditional on the instant read, so that of two retries taking over at once one wins.
    let taken = sqlx::query(
        "UPDATE idempotency_keys SET created_at = $3
         WHERE customer_id = $1 AND key = $2 AND status = 'running' AND created_at = $4",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(millis(now))
    .bind(millis(since))
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() == 0 {
        return Ok(Claim::Running);
    }
    let held = Held {
        order_id: ordo_db::row::uuid(&row, "order_id")?,
        since: as_stored(now),
    };
    Ok(Claim::Claimed {
        held,
        resumed: true,
    })
}

/// `at` as the table keeps it (to the millisecond), so that a claim compares equal to itself.
fn as_stored(at: OffsetDateTime) -> OffsetDateTime {
    ordo_kernel::time::from_millis(millis(at))
}

/// Stores the answer, in the same transaction as the order it describes. False when the
/// claim is no longer `held` (its request took too long and a retry took over, or the
/// sweep gave it up): the order must then not be written.
pub async fn complete<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer_id: Uuid,
    key: &str,
    held: &Held,
    status: u16,
    body: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET status = 'done', response_status = $5, response_body = $6
         WHERE customer_id = $1 AND key = $2 AND order_id = $3 AND created_at = $4
           AND status = 'running'",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(held.order_id.to_string())
    .bind(millis(held.since))
    .bind(i64::from(status))
    .bind(body)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives up the claim `held`, so that the key may be used again. False when the claim is
/// not that any more.
pub async fn release<'c>(
    executor: impl Executor<'c, Database = Any>,
    customer_id: Uuid,
    key: &str,
    held: &Held,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM idempotency_keys
         WHERE customer_id = $1 AND key = $2 AND order_id = $3 AND created_at = $4
           AND status = 'running'",
    )
    .bind(customer_id.to_string())
    .bind(key)
    .bind(held.order_id.to_string())
    .bind(millis(held.since))
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A claim whose request died: its key and what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleClaim {
    pub customer_id: Uuid,
    pub key: String,
    pub held: Held,
}

/// Claims still running that were made before `stale`, oldest first.
pub async fn stale<'c>(
    executor: impl Executor<'c, Database = Any>,
    stale: OffsetDateTime,
    limit: i64,
) -> Result<Vec<StaleClaim>, sqlx::Error> {
    sqlx::query(
        "SELECT customer_id, key, order_id, created_at FROM idempotency_keys
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
            held: Held {
                order_id: ordo_db::row::uuid(row, "order_id")?,
                since: instant(row, "created_at")?,
            },
        })
    })
    .collect()
}
