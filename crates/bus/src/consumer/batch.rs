//! One consumer transaction: the inbox claims, the handlers, the commit; dead letters and
//! their replays.

use super::Shared;
use super::sequence::{self, Place, Positions};
use crate::envelope::Envelope;
use crate::handler::HandlerError;
use crate::store::{self, DeadLetter};
use futures_util::FutureExt;
use ordo_db::Tx;
use ordo_kernel::trace::TraceContext;
use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

/// What made a batch fail: a handler, or the consumer's own database.
pub(super) enum BatchFailure {
    Handler(HandlerError),
    Storage(ordo_db::Error),
}

impl From<ordo_db::Error> for BatchFailure {
    fn from(error: ordo_db::Error) -> Self {
        Self::Storage(error)
    }
}

/// What became of one event of a committed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Handled,
    Duplicate,
    /// A type the consumer does not handle: only its place in its subject was taken.
    Passed,
    /// Early: its subject's events after `after` have not all been handled. Not
    /// acknowledged; the shard holds it back.
    Held {
        after: u64,
    },
}

/// The span an event's handler runs in: continued from the trace of the request (or the
/// event) that caused it, so one order's journey is one trace across services.
fn event_span(shared: &Shared, event: &Envelope, attempt: u32) -> tracing::Span {
    let span = tracing::info_span!(
        "event",
        event.id = %event.id,
        event.type = %event.event_type,
        event.subject = %event.subject,
        consumer = %shared.sub.name,
        attempt,
        trace.id = tracing::field::Empty,
        order.id = tracing::field::Empty,
    );
    let parent = event.traceparent.as_deref().and_then(TraceContext::parse);
    span.record(
        "trace.id",
        ordo_telemetry::join(&span, parent).trace_id_hex(),
    );
    span
}

/// One transaction: take the replay request if this is a replay, place the events in their
/// subjects, claim those to handle in the inbox and move the subjects' positions, run their
/// handlers in order, commit. `attempt` counts this try of these events (1 for the
/// first). A replay is handled whatever its place: an operator asked for it.
pub(super) async fn run_batch(
    shared: &Arc<Shared>,
    events: Vec<Arc<Envelope>>,
    replay: Option<Uuid>,
    attempt: u32,
) -> Result<Vec<Outcome>, BatchFailure> {
    // Before the transaction: the first asking writes, and SQLite has one writer.
    let since = shared.since().await?;
    let work = shared.clone();
    let (outcomes, handled) = shared
        .sub
        .db
        .write(move |tx| Box::pin(handle_batch(work, tx, events, replay, attempt, since)))
        .await?;
    if !handled.is_empty() {
        shared.committed(&handled);
    }
    Ok(outcomes)
}

/// The transaction of [`run_batch`]: each event's outcome, and the ids of those handled.
async fn handle_batch(
    shared: Arc<Shared>,
    tx: &mut Tx,
    events: Vec<Arc<Envelope>>,
    replay: Option<Uuid>,
    attempt: u32,
    since: time::OffsetDateTime,
) -> Result<(Vec<Outcome>, Vec<Uuid>), BatchFailure> {
    let events: Vec<&Envelope> = events.iter().map(|event| &**event).collect();
    if let Some(letter) = replay
        && !store::take_replay(tx, letter).await?
    {
        // Someone else took this replay.
        return Ok((vec![Outcome::Duplicate], Vec::new()));
    }
    let mut positions = match replay {
        Some(_) => None,
        None => {
            let keys = sequence::keys(&events);
            let known = if keys.is_empty() {
                HashMap::new()
            } else {
                store::positions(tx, &shared.sub.name, &keys).await?
            };
            Some(Positions::new(&keys, &known, since))
        }
    };
    let places: Vec<Place> = events
        .iter()
        .map(|event| positions.as_mut().map_or(Place::Next, |p| p.place(event)))
        .collect();
    let mut outcomes: Vec<Outcome> = events
        .iter()
        .zip(&places)
        .map(|(event, place)| match place {
            Place::Ahead { after } => Outcome::Held { after: *after },
            _ if !shared.sub.wants(&event.event_type) => match place {
                Place::Next => Outcome::Passed,
                _ => Outcome::Duplicate,
            },
            // An event behind its subject's position that the inbox has never seen came
            // after its gap was reported: handled late rather than lost.
            _ => Outcome::Handled,
        })
        .collect();
    let mut ids: Vec<Uuid> = events
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| **outcome == Outcome::Handled)
        .map(|(event, _)| event.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    // The claims and the positions' moves go out together, before the handlers: both are
    // known from the places alone, and a handler failing rolls both back.
    let mut batch = tx.batch();
    let claims = store::stage_claim(&mut batch, &shared.sub.name, &ids, ordo_kernel::time::now());
    if let Some(positions) = &positions {
        store::stage_advance(&mut batch, &shared.sub.name, &positions.moves());
    }
    let changed = tx.run(batch).await?;
    let claimed: u64 = claims.into_iter().map(|claim| changed.rows(claim)).sum();
    // The count says which events are new only when it is all of them or none; the rare
    // batch that mixes both (a redelivery beside new events) is handled one event at a time.
    let fresh = if claimed == ids.len() as u64 {
        true
    } else if claimed == 0 {
        false
    } else {
        return Err(BatchFailure::Handler(HandlerError::retry(
            "some of the batch's events were handled before",
        )));
    };
    let mut done = HashSet::with_capacity(events.len());
    let mut handled = Vec::with_capacity(events.len());
    for ((event, outcome), place) in events.iter().zip(outcomes.iter_mut()).zip(&places) {
        if *outcome != Outcome::Handled {
            continue;
        }
        if !fresh || !done.insert(event.id) {
            *outcome = Outcome::Duplicate;
            continue;
        }
        if *place == Place::Behind {
            tracing::warn!(consumer = %shared.sub.name, event.id = %event.id, event.subject = %event.subject, "an event came after its subject moved past it; handling it late");
        }
        let started = std::time::Instant::now();
        let span = event_span(&shared, event, attempt);
        let result = AssertUnwindSafe(shared.sub.handle(tx, event))
            .catch_unwind()
            .instrument(span.clone())
            .await
            .unwrap_or_else(|_| Err(HandlerError::retry("the handler panicked")));
        span.in_scope(|| match &result {
            Ok(()) => tracing::debug!("event handled"),
            Err(error) => tracing::debug!(%error, "event handler failed"),
        });
        metrics::histogram!("bus_handle_duration_seconds", "consumer" => shared.sub.name.clone())
            .record(started.elapsed().as_secs_f64());
        if let Err(error) = result {
            return Err(BatchFailure::Handler(error));
        }
        metrics::histogram!("bus_delivery_latency_seconds", "consumer" => shared.sub.name.clone())
            .record(
                (ordo_kernel::time::now() - event.time)
                    .as_seconds_f64()
                    .max(0.0),
            );
        handled.push(event.id);
    }
    Ok((outcomes, handled))
}

/// Records `letter`; its subject moves past it, as past a handled event.
pub(super) async fn dead_letter(
    shared: &Shared,
    letter: &DeadLetter,
) -> Result<(), ordo_db::Error> {
    let name = shared.sub.name.clone();
    let letter = letter.clone();
    shared
        .sub
        .db
        .write(move |tx| {
            Box::pin(async move {
                store::insert_dead_letter(tx, &letter).await?;
                let event = &letter.envelope;
                if let Some(seq) = event.subject_seq {
                    store::advance(tx, &name, &[(&event.source, &event.subject, seq)]).await?;
                }
                Ok(())
            })
        })
        .await
}

/// Handles dead letters whose replay was asked for, each at most once more.
pub(super) async fn replay_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(shared.options.poll_interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let letters = match store::replays(&shared.sub.db, &shared.sub.name).await {
            Ok(letters) => letters,
            Err(error) => {
                tracing::warn!(consumer = %shared.sub.name, %error, "cannot read replay requests");
                continue;
            }
        };
        for letter in letters {
            replay_one(&shared, letter).await;
        }
    }
}

async fn replay_one(shared: &Arc<Shared>, letter: DeadLetter) {
    let attempt = letter.attempts + 1;
    match run_batch(
        shared,
        vec![Arc::new(letter.envelope.clone())],
        Some(letter.id),
        attempt,
    )
    .await
    {
        Ok(outcomes) => {
            if matches!(outcomes.first(), Some(Outcome::Handled)) {
                shared.count(&shared.stats.replayed, "bus_replayed_total", 1);
                shared.count(&shared.stats.handled, "bus_handled_total", 1);
            }
        }
        Err(BatchFailure::Handler(error)) => {
            tracing::warn!(consumer = %shared.sub.name, event.id = %letter.event_id, %error, "replayed event failed again");
            let again = DeadLetter {
                attempts: 1,
                last_error: error.message().to_owned(),
                dead_at: ordo_kernel::time::now(),
                ..letter
            };
            if let Err(error) = dead_letter(shared, &again).await {
                tracing::warn!(consumer = %shared.sub.name, %error, "cannot return the replayed event to the dead letters");
            }
            shared.options.progress.notify_waiters();
        }
        Err(BatchFailure::Storage(error)) => {
            tracing::warn!(consumer = %shared.sub.name, %error, "replay failed; it stays requested");
        }
    }
}
