//! The bus's tables in each service's database: outbox, inbox, dead letters, leases.
//! Portable SQL, the same on SQLite and PostgreSQL.

use crate::envelope::{CONTENT_TYPE, Envelope, SPEC_VERSION};
use ordo_db::{Batch, Counted, Db, Dialect, Encode, Error, FromRow, Tx, Value, params, sql};
use serde_json::value::RawValue;
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

/// Columns of an outbox row as staged: its index in the batch, the place it comes back from
/// its subject's last, and the envelope's own.
const STAGED_COLUMNS: usize = 11;

/// Writes `events` to the outbox, giving each its place in its subject's order: one round
/// trip on PostgreSQL for up to `CHUNK` events.
pub(crate) async fn insert_events(tx: &mut Tx, events: &[Envelope]) -> Result<(), Error> {
    for chunk in events.chunks(CHUNK) {
        let mut batch = tx.batch();
        stage(&mut batch, chunk)?;
        tx.run(batch).await?;
    }
    Ok(())
}

/// Adds `events` (at most `CHUNK`) to `batch`: their subjects' last places raised by how
/// many each has, then the rows, each placed back from its subject's new last in the order
/// given. Subjects are raised in sorted order, so that two transactions appending the same
/// subjects lock them in the same order. At most once per batch.
pub(crate) fn stage(batch: &mut Batch, events: &[Envelope]) -> Result<(), Error> {
    let mut counts: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    let mut back = vec![0_i64; events.len()];
    for (index, event) in events.iter().enumerate().rev() {
        let after = counts
            .entry((event.source.as_str(), event.subject.as_str()))
            .or_default();
        back[index] = *after;
        *after += 1;
    }
    let now = ordo_kernel::time::now();
    let mut params = Vec::with_capacity(counts.len() * 4);
    for ((source, subject), count) in &counts {
        params.extend([
            source.encode(),
            subject.encode(),
            count.encode(),
            now.encode(),
        ]);
    }
    let raise = format!(
        "INSERT INTO bus_subjects (source, subject, seq, since) VALUES {}
         ON CONFLICT (source, subject) DO UPDATE SET seq = bus_subjects.seq + excluded.seq",
        sql::rows(counts.len(), 4)
    );
    // On PostgreSQL the rows read the raised places from the step's own rows (a batch sees
    // the database as it was before it); on SQLite the statements run in turn and read the
    // table itself.
    let placed = match batch.dialect() {
        Dialect::Postgres => {
            batch.returning(
                "bus_placed",
                format!("{raise} RETURNING source, subject, seq, since"),
                &params,
            )?;
            "bus_placed"
        }
        Dialect::Sqlite => {
            batch.once("bus_placed")?;
            batch.execute(raise, &params);
            "bus_subjects"
        }
    };
    let mut params = Vec::with_capacity(events.len() * STAGED_COLUMNS);
    for (index, event) in events.iter().enumerate() {
        params.extend([
            index.encode(),
            back[index].encode(),
            event.id.encode(),
            event.event_type.encode(),
            event.source.encode(),
            event.subject.encode(),
            event.time.encode(),
            event.dataversion.encode(),
            event.data.get().encode(),
            event.traceparent.encode(),
            event.correlationid.encode(),
        ]);
    }
    // A VALUES list's columns are column1, column2, … on both databases.
    batch.execute(
        format!(
            "INSERT INTO bus_outbox (id, type, source, subject, subject_seq, subject_since, time, dataversion, data, traceparent, correlationid)
             SELECT v.column3, v.column4, v.column5, v.column6, p.seq - v.column2, p.since,
                    v.column7, v.column8, v.column9, v.column10, v.column11
             FROM (VALUES {}) AS v
             JOIN {placed} AS p ON p.source = v.column5 AND p.subject = v.column6
             ORDER BY v.column1",
            sql::rows(events.len(), STAGED_COLUMNS)
        ),
        &params,
    );
    Ok(())
}

/// How far `consumer` has come in the subjects of `keys` (source, subject): the last place
/// it handled, passed over or dead-lettered; subjects it never saw are absent.
pub(crate) async fn positions(
    tx: &mut Tx,
    consumer: &str,
    keys: &HashSet<(&str, &str)>,
) -> Result<HashMap<(String, String), u64>, Error> {
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
        let params: Vec<Value> = std::iter::once(consumer.encode())
            .chain(chunk.iter().map(Encode::encode))
            .collect();
        for (source, subject, seq) in tx.fetch_all::<(String, String, u64)>(&sql, &params).await? {
            if keys.contains(&(source.as_str(), subject.as_str())) {
                found.insert((source, subject), seq);
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
) -> Result<OffsetDateTime, Error> {
    let consumer = consumer.to_owned();
    db.write(move |tx| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO bus_consumers (consumer, since) VALUES ($1, $2) ON CONFLICT (consumer) DO NOTHING",
                params![consumer, now],
            )
            .await?;
            let (since,) = tx
                .fetch_one("SELECT since FROM bus_consumers WHERE consumer = $1", params![consumer])
                .await?;
            Ok(since)
        })
    })
    .await
}

/// Moves `consumer`'s positions as `moves` say (never back).
pub(crate) async fn advance(
    tx: &mut Tx,
    consumer: &str,
    moves: &[(&str, &str, u64)],
) -> Result<(), Error> {
    let mut batch = tx.batch();
    stage_advance(&mut batch, consumer, moves);
    tx.run(batch).await.map(drop)
}

/// Adds to `batch` the moves of `consumer`'s positions (never back).
pub(crate) fn stage_advance(batch: &mut Batch, consumer: &str, moves: &[(&str, &str, u64)]) {
    for chunk in moves.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO bus_positions (consumer, source, subject, seq) VALUES {}
             ON CONFLICT (consumer, subject, source) DO UPDATE SET seq = excluded.seq
             WHERE bus_positions.seq < excluded.seq",
            sql::rows(chunk.len(), 4)
        );
        let mut params = Vec::with_capacity(chunk.len() * 4);
        for (source, subject, seq) in chunk {
            params.extend([
                consumer.encode(),
                source.encode(),
                subject.encode(),
                seq.encode(),
            ]);
        }
        batch.execute(sql, &params);
    }
}

const OUTBOX_SELECT: &str = "SELECT seq, id, type, source, subject, subject_seq, subject_since, time, dataversion, data, traceparent, correlationid FROM bus_outbox";

#[derive(FromRow)]
struct OutboxRecord {
    seq: i64,
    id: Uuid,
    r#type: String,
    source: String,
    subject: String,
    subject_seq: Option<u64>,
    subject_since: Option<OffsetDateTime>,
    time: OffsetDateTime,
    dataversion: u32,
    data: String,
    traceparent: Option<String>,
    correlationid: Option<String>,
}

impl TryFrom<OutboxRecord> for OutboxRow {
    type Error = Error;

    fn try_from(row: OutboxRecord) -> Result<Self, Error> {
        Ok(OutboxRow {
            seq: row.seq,
            envelope: Envelope {
                specversion: SPEC_VERSION.into(),
                id: row.id,
                event_type: row.r#type,
                source: row.source,
                subject: row.subject,
                subject_seq: row.subject_seq,
                subject_since: row.subject_since,
                time: row.time,
                datacontenttype: CONTENT_TYPE.into(),
                dataversion: row.dataversion,
                data: RawValue::from_string(row.data).map_err(|e| Error::Decode {
                    column: "data".into(),
                    message: e.to_string(),
                })?,
                traceparent: row.traceparent,
                correlationid: row.correlationid,
            },
        })
    }
}

/// Unpublished events after `after_seq`, oldest first.
pub(crate) async fn unpublished(
    db: &Db,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<OutboxRow>, Error> {
    let sql =
        format!("{OUTBOX_SELECT} WHERE published_at IS NULL AND seq > $1 ORDER BY seq LIMIT $2");
    db.fetch_all::<OutboxRecord>(&sql, params![after_seq, limit])
        .await?
        .into_iter()
        .map(OutboxRow::try_from)
        .collect()
}

/// Which of `seqs` are unpublished rows now.
pub(crate) async fn unpublished_among(db: &Db, seqs: &[i64]) -> Result<Vec<OutboxRow>, Error> {
    let mut found = Vec::new();
    for chunk in seqs.chunks(CHUNK) {
        let sql = format!(
            "{OUTBOX_SELECT} WHERE published_at IS NULL AND seq IN ({})",
            sql::placeholders(1, chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(Encode::encode).collect();
        for row in db.fetch_all::<OutboxRecord>(&sql, &params).await? {
            found.push(row.try_into()?);
        }
    }
    Ok(found)
}

pub(crate) async fn mark_published(db: &Db, seqs: &[i64], at: OffsetDateTime) -> Result<(), Error> {
    let postgres = db.dialect() == ordo_db::Dialect::Postgres;
    let seqs = seqs.to_vec();
    db.write(move |tx| {
        Box::pin(async move {
            if postgres {
                // A mark lost in a database crash only means the rows are sent again, and
                // the broker and the inboxes drop repeats; it need not wait for the disk.
                tx.execute("SET LOCAL synchronous_commit TO OFF", params![])
                    .await?;
            }
            for chunk in seqs.chunks(CHUNK) {
                let sql = format!(
                    "UPDATE bus_outbox SET published_at = $1 WHERE seq IN ({})",
                    sql::placeholders(2, chunk.len())
                );
                let params: Vec<Value> = std::iter::once(at.encode())
                    .chain(chunk.iter().map(Encode::encode))
                    .collect();
                tx.execute(&sql, &params).await?;
            }
            Ok(())
        })
    })
    .await
}

/// How many events wait to be published, and when the oldest was written.
pub(crate) async fn backlog(db: &Db) -> Result<(i64, Option<OffsetDateTime>), Error> {
    db.fetch_one(
        "SELECT COUNT(*) AS waiting, MIN(time) AS oldest FROM bus_outbox WHERE published_at IS NULL",
        params![],
    )
    .await
}

/// Deletes published events older than `before`, a bounded number at a time.
pub(crate) async fn purge_published(db: &Db, before: OffsetDateTime) -> Result<u64, Error> {
    db.execute(
        "DELETE FROM bus_outbox WHERE seq IN
           (SELECT seq FROM bus_outbox WHERE published_at IS NOT NULL AND published_at < $1 LIMIT 5000)",
        params![before],
    )
    .await
}

/// Marks events published since `since` unpublished again, so the relay sends them anew.
pub(crate) async fn republish(db: &Db, since: OffsetDateTime) -> Result<u64, Error> {
    db.execute(
        "UPDATE bus_outbox SET published_at = NULL WHERE published_at >= $1",
        params![since],
    )
    .await
}

/// Adds to `batch` the claims of `ids` by `consumer` in the inbox: the rows its statements
/// insert are the events nobody claimed before. A claim another transaction holds waits
/// for it, and counts nothing once that one commits.
pub(crate) fn stage_claim(
    batch: &mut Batch,
    consumer: &str,
    ids: &[Uuid],
    at: OffsetDateTime,
) -> Vec<Counted> {
    ids.chunks(CHUNK)
        .map(|chunk| {
            let values = (0..chunk.len())
                .map(|i| format!("($1, ${}, $2)", i + 3))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO bus_inbox (consumer, event_id, handled_at) VALUES {values}
                 ON CONFLICT (consumer, event_id) DO NOTHING"
            );
            let params: Vec<Value> = [consumer.encode(), at.encode()]
                .into_iter()
                .chain(chunk.iter().map(Encode::encode))
                .collect();
            batch.execute(sql, &params)
        })
        .collect()
}

pub(crate) async fn purge_inbox(db: &Db, before: OffsetDateTime) -> Result<u64, Error> {
    db.execute(
        "DELETE FROM bus_inbox WHERE (consumer, event_id) IN
           (SELECT consumer, event_id FROM bus_inbox WHERE handled_at < $1 LIMIT 5000)",
        params![before],
    )
    .await
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

const DEAD_LETTER_SELECT: &str = "SELECT id, consumer, event_id, event_type, subject, envelope, attempts, last_error, first_failed_at, dead_at, status FROM bus_dead_letters";

#[derive(FromRow)]
struct DeadLetterRow {
    id: Uuid,
    consumer: String,
    event_id: Uuid,
    event_type: String,
    subject: String,
    envelope: ordo_db::Json<Envelope>,
    attempts: i64,
    last_error: String,
    first_failed_at: OffsetDateTime,
    dead_at: OffsetDateTime,
    status: String,
}

impl From<DeadLetterRow> for DeadLetter {
    fn from(row: DeadLetterRow) -> Self {
        DeadLetter {
            id: row.id,
            consumer: row.consumer,
            event_id: row.event_id,
            event_type: row.event_type,
            subject: row.subject,
            envelope: row.envelope.0,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            last_error: row.last_error,
            first_failed_at: row.first_failed_at,
            dead_at: row.dead_at,
            replay_requested: row.status == "replay",
        }
    }
}

/// Records a dead letter; an event dead again after a replay updates its entry.
pub(crate) async fn insert_dead_letter(tx: &mut Tx, letter: &DeadLetter) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO bus_dead_letters (id, consumer, event_id, event_type, subject, envelope, attempts, last_error, first_failed_at, dead_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'dead')
         ON CONFLICT (consumer, event_id) DO UPDATE SET
           attempts = bus_dead_letters.attempts + excluded.attempts,
           last_error = excluded.last_error, dead_at = excluded.dead_at, status = 'dead'",
        params![
            letter.id,
            letter.consumer,
            letter.event_id,
            letter.event_type,
            letter.subject,
            ordo_db::Json(&letter.envelope),
            letter.attempts,
            letter.last_error,
            letter.first_failed_at,
            letter.dead_at,
        ],
    )
    .await?;
    Ok(())
}

/// Dead letters newest first, optionally of one consumer, after the cursor `before`.
pub(crate) async fn dead_letters(
    db: &Db,
    consumer: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DeadLetter>, Error> {
    let sql = format!(
        "{DEAD_LETTER_SELECT} WHERE ($1 IS NULL OR consumer = $1) AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<DeadLetterRow> = db.fetch_all(&sql, params![consumer, before, limit]).await?;
    Ok(rows.into_iter().map(DeadLetter::from).collect())
}

pub(crate) async fn dead_letter_by_id(db: &Db, id: Uuid) -> Result<Option<DeadLetter>, Error> {
    let sql = format!("{DEAD_LETTER_SELECT} WHERE id = $1");
    let row: Option<DeadLetterRow> = db.fetch_optional(&sql, params![id]).await?;
    Ok(row.map(DeadLetter::from))
}

/// Asks the consumer to handle the event once more. False when there is no such letter.
pub(crate) async fn request_replay(db: &Db, id: Uuid) -> Result<bool, Error> {
    let changed = db
        .execute(
            "UPDATE bus_dead_letters SET status = 'replay' WHERE id = $1",
            params![id],
        )
        .await?;
    Ok(changed == 1)
}

pub(crate) async fn discard(db: &Db, id: Uuid) -> Result<bool, Error> {
    let changed = db
        .execute("DELETE FROM bus_dead_letters WHERE id = $1", params![id])
        .await?;
    Ok(changed == 1)
}

/// Dead letters of `consumer` waiting to be replayed.
pub(crate) async fn replays(db: &Db, consumer: &str) -> Result<Vec<DeadLetter>, Error> {
    let sql = format!(
        "{DEAD_LETTER_SELECT} WHERE consumer = $1 AND status = 'replay' ORDER BY id LIMIT 100"
    );
    let rows: Vec<DeadLetterRow> = db.fetch_all(&sql, params![consumer]).await?;
    Ok(rows.into_iter().map(DeadLetter::from).collect())
}

/// Takes a replay request inside the handler's transaction: only one taker succeeds, so a
/// replayed event is handled at most once more.
pub(crate) async fn take_replay(tx: &mut Tx, id: Uuid) -> Result<bool, Error> {
    let changed = tx
        .execute(
            "DELETE FROM bus_dead_letters WHERE id = $1 AND status = 'replay'",
            params![id],
        )
        .await?;
    Ok(changed == 1)
}

/// Takes or renews the lease `name` for `holder`; false while another holder's is live.
pub(crate) async fn acquire_lease(
    db: &Db,
    name: &str,
    holder: &str,
    now: OffsetDateTime,
    ttl: std::time::Duration,
) -> Result<bool, Error> {
    let changed = db
        .execute(
            "INSERT INTO bus_leases (name, holder, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE bus_leases.holder = excluded.holder OR bus_leases.expires_at < $4",
            params![name, holder, now + ttl, now],
        )
        .await?;
    Ok(changed == 1)
}

pub(crate) async fn release_lease(db: &Db, name: &str, holder: &str) -> Result<(), Error> {
    db.execute(
        "DELETE FROM bus_leases WHERE name = $1 AND holder = $2",
        params![name, holder],
    )
    .await
    .map(drop)
}

#[cfg(test)]
mod tests;
