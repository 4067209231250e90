//! Publishing: a service appends events to its outbox inside the transaction that makes
//! the change they describe, then commits through the outbox so the relay wakes at once.

use crate::BusError;
use crate::envelope::{CONTENT_TYPE, Envelope, EventMeta, SPEC_VERSION, valid_source, valid_type};
use crate::store;
use futures_util::future::BoxFuture;
use ordo_contracts::Event;
use ordo_db::{Batch, Db, Tx};
use serde_json::value::RawValue;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

const MAX_SUBJECT_LEN: usize = 200;

/// One service's outbox. Cheap to clone; every clone wakes the same relay.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    source: String,
    db: Db,
    wake: Notify,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("source", &self.inner.source)
            .finish()
    }
}

impl Outbox {
    /// The outbox of the service `source`, in its database `db`.
    #[must_use]
    pub fn new(source: &str, db: Db) -> Self {
        Self {
            inner: Arc::new(Inner {
                source: source.to_owned(),
                db,
                wake: Notify::new(),
            }),
        }
    }

    #[must_use]
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    #[must_use]
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Appends `payload` as an event about `subject` to the transaction `tx`. It is
    /// published if and only if `tx` commits, with the next place in its subject's order.
    /// Returns the event's id.
    ///
    /// # Errors
    /// An event type that is not `noun.verb` or is another service's, an empty or
    /// over-long subject, a payload that does not serialise, or the insert failing.
    pub async fn append<E: Event>(
        &self,
        tx: &mut Tx,
        subject: &str,
        payload: &E,
        meta: &EventMeta,
    ) -> Result<Uuid, BusError> {
        let mut batch = tx.batch();
        let id = self.stage(&mut batch, subject, payload, meta)?;
        tx.run(batch).await?;
        Ok(id)
    }

    /// Adds `payload` as an event about `subject` to `batch`, so that it is written with the
    /// use case's other statements (one round trip on PostgreSQL) and published if and only
    /// if the batch's transaction commits. At most once per batch. Returns the event's id.
    ///
    /// # Errors
    /// As [`Outbox::append`], or the batch already holding an event.
    pub fn stage<E: Event>(
        &self,
        batch: &mut Batch,
        subject: &str,
        payload: &E,
        meta: &EventMeta,
    ) -> Result<Uuid, BusError> {
        let event = self.envelope(subject, payload, meta)?;
        store::stage(batch, std::slice::from_ref(&event))?;
        Ok(event.id)
    }

    /// Appends many events in one statement: for a use case that emits a batch (an import,
    /// a sweep), where one insert per event would cost more than the events themselves.
    ///
    /// # Errors
    /// As [`Outbox::append`], for any of the events; then none is appended.
    pub async fn append_all<E: Event>(
        &self,
        tx: &mut Tx,
        events: &[(&str, &E)],
        meta: &EventMeta,
    ) -> Result<Vec<Uuid>, BusError> {
        let envelopes = events
            .iter()
            .map(|(subject, payload)| self.envelope(subject, *payload, meta))
            .collect::<Result<Vec<_>, _>>()?;
        store::insert_events(tx, &envelopes).await?;
        Ok(envelopes.iter().map(|event| event.id).collect())
    }

    fn envelope<E: Event>(
        &self,
        subject: &str,
        payload: &E,
        meta: &EventMeta,
    ) -> Result<Envelope, BusError> {
        if !valid_type(E::TYPE) || !valid_source(E::SOURCE) {
            return Err(BusError::InvalidType(E::TYPE.to_owned()));
        }
        if E::SOURCE != self.inner.source {
            return Err(BusError::WrongSource {
                event_type: E::TYPE,
                owner: E::SOURCE,
                outbox: self.inner.source.clone(),
            });
        }
        if subject.is_empty() || subject.len() > MAX_SUBJECT_LEN {
            return Err(BusError::InvalidSubject);
        }
        let encode = |source| BusError::Encode {
            event_type: E::TYPE,
            source,
        };
        let data = serde_json::to_string(payload).map_err(encode)?;
        Ok(Envelope {
            specversion: SPEC_VERSION.into(),
            id: ordo_kernel::id::new_id(),
            event_type: E::TYPE.to_owned(),
            source: self.inner.source.clone(),
            subject: subject.to_owned(),
            subject_seq: None,
            subject_since: None,
            time: ordo_kernel::time::now(),
            datacontenttype: CONTENT_TYPE.into(),
            dataversion: E::VERSION,
            data: RawValue::from_string(data).map_err(encode)?,
            traceparent: meta.traceparent.clone(),
            correlationid: meta.correlationid.clone(),
        })
    }

    /// Commits `tx` and wakes the relay, so its events leave without waiting for a poll.
    ///
    /// # Errors
    /// The commit failing; then nothing it appended is published.
    pub async fn commit(&self, tx: Tx) -> Result<(), ordo_db::Error> {
        tx.commit().await?;
        self.wake();
        Ok(())
    }

    /// Runs `work` as one write transaction on the outbox's database ([`Db::write`]) and,
    /// once it has committed, wakes the relay: the way a use case that appends events
    /// writes.
    ///
    /// # Errors
    /// What `work` returned, or the database failing to begin or commit.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<ordo_db::Error> + Send + 'static,
    {
        let done = self.inner.db.write(work).await?;
        self.wake();
        Ok(done)
    }

    /// Tells the relay that events may be waiting (after a commit made elsewhere).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.inner.wake.notified().await;
    }
}
