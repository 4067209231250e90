//! Idempotency keys of `POST /orders`: claimed before the work with the order id the
//! checkout reserves stock for, completed with the answer in the order's own transaction
//! only while the claim is still that checkout's.
//!
//! The order id belongs to the key from its first claim on: a retry that takes over the
//! claim of a request that died keeps it, so the stock that request may have reserved is
//! found again (reserving is idempotent by order id) instead of held twice. A claim is
//! known by its order id and the instant it was (re)taken, so a request that was slow
//! past the takeover can no longer complete or release what is now the retry's.

use super::required;
use ordo_db::{Batch, Counted, Db, Error, FromRow, Tx, params};
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
    tx: &mut Tx,
    customer_id: Uuid,
    key: &str,
    hash: &str,
    order_id: Uuid,
    now: OffsetDateTime,
    stale: OffsetDateTime,
) -> Result<Claim, Error> {
    // The instant bound is the one the claim is known by, whatever precision the column has.
    let now = ordo_kernel::time::stored(now);
    let fresh = tx
        .execute(
            "INSERT INTO idempotency_keys (customer_id, key, request_hash, status, order_id, created_at)
             VALUES ($1, $2, $3, 'running', $4, $5)
             ON CONFLICT (customer_id, key) DO NOTHING",
            params![customer_id, key, hash, order_id, now],
        )
        .await?;
    // The common case, a key never seen, costs one statement.
    if fresh == 1 {
        let held = Held {
            order_id,
            since: now,
        };
        return Ok(Claim::Claimed {
            held,
            resumed: false,
        });
    }
    let row: KeyRow = tx
        .fetch_one(
            "SELECT request_hash, status, order_id, created_at, response_status, response_body
             FROM idempotency_keys WHERE customer_id = $1 AND key = $2",
            params![customer_id, key],
        )
        .await?;
    if row.request_hash != hash {
        return Ok(Claim::OtherRequest);
    }
    if row.status == "done" {
        let code = required(row.response_status, "response_status")?;
        return Ok(Claim::Done {
            status: u16::try_from(code).unwrap_or(500),
            body: required(row.response_body, "response_body")?,
        });
    }
    let since = row.created_at;
    if since >= stale {
        return Ok(Claim::Running);
    }
    // Conditional on the instant read, so that of two retries taking over at once one wins.
    let taken = tx
        .execute(
            "UPDATE idempotency_keys SET created_at = $3
             WHERE customer_id = $1 AND key = $2 AND status = 'running' AND created_at = $4",
            params![customer_id, key, now, since],
        )
        .await?;
    if taken == 0 {
        return Ok(Claim::Running);
    }
    let held = Held {
        order_id: required(row.order_id, "order_id")?,
        since: now,
    };
    Ok(Claim::Claimed {
        held,
        resumed: true,
    })
}

/// A key as a second claim finds it.
#[derive(FromRow)]
struct KeyRow {
    request_hash: String,
    status: String,
    /// NULL for keys claimed before claims had order ids (all of them done).
    order_id: Option<Uuid>,
    created_at: OffsetDateTime,
    /// Set once the key is done.
    response_status: Option<i64>,
    response_body: Option<String>,
}

/// Adds storing the answer to `batch`, the order's own. It changes no row when the claim is
/// no longer `held` (its request took too long and a retry took over, or the sweep gave it
/// up): the order must then not be written.
pub fn complete(
    batch: &mut Batch,
    customer_id: Uuid,
    key: &str,
    held: &Held,
    status: u16,
    body: &str,
) -> Counted {
    batch.execute(
        "UPDATE idempotency_keys SET status = 'done', response_status = $5, response_body = $6
         WHERE customer_id = $1 AND key = $2 AND order_id = $3 AND created_at = $4
           AND status = 'running'",
        params![customer_id, key, held.order_id, held.since, status, body],
    )
}

/// Gives up the claim `held`, so that the key may be used again. False when the claim is
/// not that any more.
pub async fn release(
    tx: &mut Tx,
    customer_id: Uuid,
    key: &str,
    held: &Held,
) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "DELETE FROM idempotency_keys
             WHERE customer_id = $1 AND key = $2 AND order_id = $3 AND created_at = $4
               AND status = 'running'",
            params![customer_id, key, held.order_id, held.since],
        )
        .await?;
    Ok(changed == 1)
}

/// A claim whose request died: its key and what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleClaim {
    pub customer_id: Uuid,
    pub key: String,
    pub held: Held,
}

/// Claims still running that were made before `stale`, oldest first.
pub async fn stale(db: &Db, stale: OffsetDateTime, limit: i64) -> Result<Vec<StaleClaim>, Error> {
    let rows: Vec<StaleRow> = db
        .fetch_all(
            "SELECT customer_id, key, order_id, created_at FROM idempotency_keys
             WHERE status = 'running' AND created_at < $1 AND order_id IS NOT NULL
             ORDER BY created_at LIMIT $2",
            params![stale, limit],
        )
        .await?;
    Ok(rows.into_iter().map(StaleClaim::from).collect())
}

#[derive(FromRow)]
struct StaleRow {
    customer_id: Uuid,
    key: String,
    order_id: Uuid,
    created_at: OffsetDateTime,
}

impl From<StaleRow> for StaleClaim {
    fn from(row: StaleRow) -> Self {
        StaleClaim {
            customer_id: row.customer_id,
            key: row.key,
            held: Held {
                order_id: row.order_id,
                since: row.created_at,
            },
        }
    }
}
