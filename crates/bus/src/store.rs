//! The bus's tables in each service's database: outbox, inbox, dead letters, leases.
//! Portable SQL, the same on SQLite and PostgreSQL.

use crate::envelope::{CONTENT_TYPE, Envelope, SPEC_VERSION};
use ordo_db::{Db, row, sql};
use ordo_kernel::time::{from_millis, to_millis};
use serde_json::value::RawValue;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::OffsetDateTime;
use uuid::Uuid;

/// Rows per multi-row statement: far below either database's parameter limit.
const CHUNK: usize = 400;

/// An outbox row on its way to the broker.
#[derive(Debug)]
pub(crate) struct OutboxRow {
    pub seq: i64,
    pub envelope: Envelope,
}

/// Columns of an outbox row as inserted; rows per statement stay under both databases'
/// parameter limits.
const OUTBOX_COLUMNS: usize = 11;

/// Writes `events` to the outbox, giving each its place in its subject's order.
pub(crate) async fn insert_events(
    conn: &mut AnyConnection,
    events: &mut [Envelope],
) -> Result<(), sqlx::Error> {
    place(conn, events).await?;
    for chunk in events.chunks(CHUNK) {
        let values = sql::rows(chunk.len(), OUTBOX_COLUMNS);
        let sql = format!(
            "INSERT INTO bus_outbox (id, type, source, subject, subject_seq, subject_since, time, dataversion, data, traceparent, correlationid)
             VALUES {values}"
        );
        let mut query = sqlx::query(&sql);
        for event in chunk {
            query = query
                .bind(event.id.to_string())
                .bind(&event.event_type)
                .bind(&event.source)
                .bind(&event.subject)
                .bind(event.subject_seq.and_then(|seq| i64::try_from(seq).ok()))
                .bind(event.subject_since.map(to_millis))
                .bind(to_millis(event.time))
                .bind(i64::from(event.dataversion))
                .bind(event.data.get())
                .bind(event.traceparent.as_deref())
                .bind(event.correlationid.as_deref());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Gives each event the next place in its source's subject, in the order given. Subjects
/// are raised in sorted order, so that two transactions appending the same subjects lock
/// them in the same order.
async fn place(conn: &mut AnyConnection, events: &mut [Envelope]) -> Result<(), sqlx::Error> {
    let mut counts: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for event in events.iter() {
        *counts
            .entry((event.source.as_str(), event.subject.as_str()))
            .or_default() += 1;
    }
    let counts: Vec<((&str, &str), i64)> = counts.into_iter().collect();
    let now = to_millis(ordo_kernel::time::now());
    let mut last: HashMap<(String, String), (i64, i64)> = HashMap::with_capacity(counts.len());
    for chunk in counts.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO bus_subjects (source, subject, seq, since) VALUES {}
             ON CONFLICT (source, subject) DO UPDATE SET seq = bus_subjects.seq + excluded.seq
             RETURNING source, subject, seq, since",
            sql::rows(chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for ((source, subject), count) in chunk {
            query = query.bind(*source).bind(*subject).bind(*count).bind(now);
        }
        for row in query.fetch_all(&mut *conn).await? {
            last.insert(
                (row.try_get("source")?, row.try_get("subject")?),
                (row.try_get("seq")?, row.try_get("since")?),
            );
        }
    }
    for event in events.iter_mut().rev() {
        let key = (event.source.clone(), event.subject.clone());
        let (seq, since) = last.get_mut(&key).ok_or(sqlx::Error::RowNotFound)?;
        event.subject_seq = u64::try_from(*seq).ok();
        event.subject_since = Some(from_millis(*since));
        *seq -= 1;
    }
    Ok(())
}

/// How far `consumer` has come in the subjects of `keys` (source, subject): the last place
/// it handled, passed over or dead-lettered; subjects it never saw are absent.
pub(crate) async fn positions(
    conn: &mut AnyConnection,
    consumer: &str,
    keys: &HashSet<(&str, &str)>,
) -> Result<HashMap<(String, String), u64>, sqlx::Error> {
    let subjects: Vec<&str> = keys
        .iter()
        .map(|(_, subject)| *subject)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in subjects.chunks(CHUNK) {
        let sql = format!(
            "SELECT source, subject, seq FROM bus_positions WHERE consumer = $1 AND subject IN ({})",
            sql::placeholders(2, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(consumer);
        for subject in chunk {
            query = query.bind(*subject);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let key: (String, String) = (row.try_get("source")?, row.try_get("subject")?);
            if keys.contains(&(key.0.as_str(), key.1.as_str())) {
                let seq: i64 = row.try_get("seq")?;
                found.insert(key, u64::try_from(seq).unwrap_or(0));
            }
        }
    }
    Ok(found)
}

/// When `consumer` first ran: `now` if it never ran before.
pub(crate) async fn consumer_since(
    db: &Db,
    consumer: &str,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO bus_consumers (consumer, since) VALUES ($1, $2) ON CONFLICT (consumer) DO NOTHING",
    )
    .bind(consumer)
    .bind(to_millis(now))
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query("SELECT since FROM bus_consumers WHERE consumer = $1")
        .bind(consumer)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(from_millis(row.try_get("since")?))
}

/// Moves `consumer` forward to each (source, subject, place) given; never back.
pub(crate) async fn advance(
    conn: &mut AnyConnection,
    consumer: &str,
    moves: &[(&str, &str, u64)],
) -> Result<(), sqlx::Error> {
    for chunk in moves.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO bus_positions (consumer, source, subject, seq) VALUES {}
             ON CONFLICT (consumer, subject, source) DO UPDATE SET seq = excluded.seq
             WHERE bus_positions.seq < excluded.seq",
            sql::rows(chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for (source, subject, seq) in chunk {
            query = query
                .bind(consumer)
                .bind(*source)
                .bind(*subject)
                .bind(i64::try_from(*seq).unwrap_or(i64::MAX));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

fn outbox_row(row: &AnyRow) -> Result<OutboxRow, sqlx::Error> {
    let data: String = row.try_get("data")?;
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    Ok(OutboxRow {
        seq: row.try_get("seq")?,
        envelope: Envelope {
            specversion: SPEC_VERSION.into(),
            id: row::uuid(row, "id")?,
            event_type: row.try_get("type")?,
            source: row.try_get("source")?,
            subject: row.try_get("subject")?,
            subject_seq: row
                .try_get::<Option<i64>, _>("subject_seq")?
                .and_then(|seq| u64::try_from(seq).ok()),
            subject_since: row
                .try_get::<Option<i64>, _>("subject_since")?
                .map(from_millis),
            time: row::instant(row, "time")?,
            datacontenttype: CONTENT_TYPE.into(),
            dataversion: u32::try_from(row.try_get::<i64, _>("dataversion")?)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            data: RawValue::from_string(data).map_err(decode)?,
            traceparent: row.try_get("traceparent")?,
            correlationid: row.try_get("correlationid")?,
        },
    })
}

/// Unpublished events after `after_seq`, oldest first.
pub(crate) async fn unpublished(
    db: &Db,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query(
        "SELECT seq, id, type, source, subject, subject_seq, subject_since, time, dataversion, data, traceparent, correlationid
         FROM bus_outbox WHERE published_at IS NULL AND seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after_seq)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(outbox_row)
    .collect()
}

/// Which of `seqs` are unpublished rows now.
pub(crate) async fn unpublished_among(
    db: &Db,
    seqs: &[i64],
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    let mut found = Vec::new();
    for chunk in seqs.chunks(CHUNK) {
        let sql = format!(
            "SELECT seq, id, type, source, subject, subject_seq, subject_since, time, dataversion, data, traceparent, correlationid
             FROM bus_outbox WHERE published_at IS NULL AND seq IN ({})",
            sql::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for seq in chunk {
            query = query.bind(*seq);
        }
        for row in query.fetch_all(db.reader()).await? {
            found.push(outbox_row(&row)?);
        }
    }
    Ok(found)
}

pub(crate) async fn mark_published(
    db: &Db,
    seqs: &[i64],
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    if db.dialect() == ordo_db::Dialect::Postgres {
        // A mark lost in a database crash only means the rows are sent again, and the
        // broker and the inboxes drop repeats; it need not wait for the disk.
        sqlx::query("SET LOCAL synchronous_commit TO OFF")
            .execute(&mut *tx)
            .await?;
    }
    for chunk in seqs.chunks(CHUNK) {
        let sql = format!(
            "UPDATE bus_outbox SET published_at = $1 WHERE seq IN ({})",
            sql::placeholders(2, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(to_millis(at));
        for seq in chunk {
            query = query.bind(*seq);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// How many events wait to be published, and when the oldest was written.
pub(crate) async fn backlog(db: &Db) -> Result<(i64, Option<OffsetDateTime>), sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS waiting, MIN(time) AS oldest FROM bus_outbox WHERE published_at IS NULL",
    )
    .fetch_one(db.reader())
    .await?;
    let oldest: Option<i64> = row.try_get("oldest")?;
    Ok((row.try_get("waiting")?, oldest.map(from_millis)))
}

/// Deletes published events older than `before`, a bounded number at a time.
pub(crate) async fn purge_published(db: &Db, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "DELETE FROM bus_outbox WHERE seq IN
           (SELECT seq FROM bus_outbox WHERE published_at IS NOT NULL AND published_at < $1 LIMIT 5000)",
    )
    .bind(to_millis(before))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// Marks events published since `since` unpublished again, so the relay sends them anew.
pub(crate) async fn republish(db: &Db, since: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE bus_outbox SET published_at = NULL WHERE published_at >= $1")
        .bind(to_millis(since))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// Claims `ids` for `consumer` in its inbox and returns those it had not handled before.
/// Inside the handlers' transaction: if it rolls back, so do the claims. Another instance
/// claiming the same event at the same moment waits for this transaction and then finds
/// the event taken.
pub(crate) async fn claim(
    conn: &mut AnyConnection,
    consumer: &str,
    ids: &[Uuid],
    at: OffsetDateTime,
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let mut claimed = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let values = (0..chunk.len())
            .map(|i| format!("($1, ${}, $2)", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO bus_inbox (consumer, event_id, handled_at) VALUES {values}
             ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
        );
        let mut query = sqlx::query(&sql).bind(consumer).bind(to_millis(at));
        for id in chunk {
            query = query.bind(id.to_string());
        }
        for row in query.fetch_all(&mut *conn).await? {
            claimed.insert(row::uuid(&row, "event_id")?);
        }
    }
    Ok(claimed)
}

pub(crate) async fn purge_inbox(db: &Db, before: OffsetDateTime) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "DELETE FROM bus_inbox WHERE (consumer, event_id) IN
           (SELECT consumer, event_id FROM bus_inbox WHERE handled_at < $1 LIMIT 5000)",
    )
    .bind(to_millis(before))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// An event a consumer gave up on.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub id: Uuid,
    pub consumer: String,
    pub event_id: Uuid,
    pub event_type: String,
    pub subject: String,
    pub envelope: Envelope,
    pub attempts: u32,
    pub last_error: String,
    pub first_failed_at: OffsetDateTime,
    pub dead_at: OffsetDateTime,
    /// A replay was asked for and the consumer has not taken it yet.
    pub replay_requested: bool,
}

const DEAD_LETTER_COLUMNS: &str = "id, consumer, event_id, event_type, subject, envelope, attempts, last_error, first_failed_at, dead_at, status";

fn dead_letter(row: &AnyRow) -> Result<DeadLetter, sqlx::Error> {
    let envelope: String = row.try_get("envelope")?;
    let status: String = row.try_get("status")?;
    Ok(DeadLetter {
        id: row::uuid(row, "id")?,
        consumer: row.try_get("consumer")?,
        event_id: row::uuid(row, "event_id")?,
        event_type: row.try_get("event_type")?,
        subject: row.try_get("subject")?,
        envelope: serde_json::from_str(&envelope).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        last_error: row.try_get("last_error")?,
        first_failed_at: row::instant(row, "first_failed_at")?,
        dead_at: row::instant(row, "dead_at")?,
        replay_requested: status == "replay",
    })
}

/// Records a dead letter; an event dead again after a replay updates its entry.
pub(crate) async fn insert_dead_letter(
    conn: &mut AnyConnection,
    letter: &DeadLetter,
) -> Result<(), sqlx::Error> {
    let envelope =
        serde_json::to_string(&letter.envelope).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO bus_dead_letters (id, consumer, event_id, event_type, subject, envelope, attempts, last_error, first_failed_at, dead_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'dead')
         ON CONFLICT (consumer, event_id) DO UPDATE SET
           attempts = bus_dead_letters.attempts + excluded.attempts,
           last_error = excluded.last_error, dead_at = excluded.dead_at, status = 'dead'",
    )
    .bind(letter.id.to_string())
    .bind(&letter.consumer)
    .bind(letter.event_id.to_string())
    .bind(&letter.event_type)
    .bind(&letter.subject)
    .bind(envelope)
    .bind(i64::from(letter.attempts))
    .bind(&letter.last_error)
    .bind(to_millis(letter.first_failed_at))
    .bind(to_millis(letter.dead_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Dead letters newest first, optionally of one consumer, after the cursor `before`.
pub(crate) async fn dead_letters(
    db: &Db,
    consumer: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DeadLetter>, sqlx::Error> {
    let sql = format!(
        "SELECT {DEAD_LETTER_COLUMNS} FROM bus_dead_letters
         WHERE ($1 IS NULL OR consumer = $1) AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    );
    sqlx::query(&sql)
        .bind(consumer)
        .bind(before.map(|id| id.to_string()))
        .bind(limit)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(dead_letter)
        .collect()
}

pub(crate) async fn dead_letter_by_id(
    db: &Db,
    id: Uuid,
) -> Result<Option<DeadLetter>, sqlx::Error> {
    let sql = format!("SELECT {DEAD_LETTER_COLUMNS} FROM bus_dead_letters WHERE id = $1");
    sqlx::query(&sql)
        .bind(id.to_string())
        .fetch_optional(db.reader())
        .await?
        .as_ref()
        .map(dead_letter)
        .transpose()
}

/// Asks the consumer to handle the event once more. False when there is no such letter.
pub(crate) async fn request_replay(db: &Db, id: Uuid) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE bus_dead_letters SET status = 'replay' WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn discard(db: &Db, id: Uuid) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM bus_dead_letters WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Dead letters of `consumer` waiting to be replayed.
pub(crate) async fn replays(db: &Db, consumer: &str) -> Result<Vec<DeadLetter>, sqlx::Error> {
    let sql = format!(
        "SELECT {DEAD_LETTER_COLUMNS} FROM bus_dead_letters
         WHERE consumer = $1 AND status = 'replay' ORDER BY id LIMIT 100"
    );
    sqlx::query(&sql)
        .bind(consumer)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(dead_letter)
        .collect()
}

/// Takes a replay request inside the handler's transaction: only one taker succeeds, so a
/// replayed event is handled at most once more.
pub(crate) async fn take_replay(conn: &mut AnyConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM bus_dead_letters WHERE id = $1 AND status = 'replay'")
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes or renews the lease `name` for `holder`; false while another holder's is live.
pub(crate) async fn acquire_lease(
    db: &Db,
    name: &str,
    holder: &str,
    now: OffsetDateTime,
    ttl: std::time::Duration,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO bus_leases (name, holder, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE bus_leases.holder = excluded.holder OR bus_leases.expires_at < $4",
    )
    .bind(name)
    .bind(holder)
    .bind(to_millis(now + ttl))
    .bind(to_millis(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn release_lease(db: &Db, name: &str, holder: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM bus_leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
