//! The in-process backend: the relay reads the outbox as soon as a commit wakes it and
//! hands each event to the consumers that want it; the row is marked published only when
//! every one of them has committed it (or dead-lettered it). A crash before that leaves the
//! row unpublished, and it is delivered again at the next start; the inboxes drop repeats.

use crate::ack::{Ack, Delivery, Pending};
use crate::options::BusOptions;
use crate::outbox::Outbox;
use crate::relay::{Lease, Marks, Reader, Wait};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use tokio::sync::{mpsc, watch};

/// Rows read from the outbox at a time.
const READ_BATCH: usize = 1000;

/// Where the relay hands events: the input of one subscription, which takes every event
/// of the sources it follows.
#[derive(Clone)]
pub(crate) struct Route {
    pub sources: Vec<String>,
    pub input: mpsc::Sender<Delivery>,
}

pub(crate) async fn relay(
    outbox: Outbox,
    routes: Arc<Vec<Route>>,
    options: BusOptions,
    holder: String,
    mut stop: watch::Receiver<bool>,
) {
    let mut lease = Lease::new(outbox.db().clone(), holder, options.lease_ttl);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut in_flight: HashSet<i64> = HashSet::new();
    let mut marks = Marks::default();
    let mut reader = Reader::new();
    let max_in_flight = options.batch_size.max(1) * 64;
    let mut wait = Wait::new(options.poll_interval);
    loop {
        if *stop.borrow() {
            break;
        }
        if !lease.hold().await {
            wait.idle(&outbox, &mut stop).await;
            continue;
        }
        while let Ok(seq) = done_rx.try_recv() {
            marks.add([seq]);
        }
        let all_acked = marks.len() == in_flight.len();
        if marks.due(all_acked) {
            let Ok(marked) = marks.flush(&outbox, &options).await else {
                return;
            };
            for seq in marked {
                in_flight.remove(&seq);
            }
        }
        if in_flight.len() >= max_in_flight {
            tokio::select! {
                seq = done_rx.recv() => marks.add(seq),
                () = marks.deadline() => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let Some(rows) = reader.read(&outbox, READ_BATCH, &mut wait, &mut stop).await else {
            continue;
        };
        if rows.is_empty() {
            // From the start again at each idle pass: rows committed late with a lower
            // sequence (PostgreSQL) or marked for republishing are found this way.
            reader.rewind();
            tokio::select! {
                seq = done_rx.recv() => marks.add(seq),
                () = marks.deadline() => {}
                () = wait.idle(&outbox, &mut stop) => {}
            }
            continue;
        }
        for row in rows {
            if !in_flight.insert(row.seq) {
                continue;
            }
            let targets: Vec<&Route> = routes
                .iter()
                .filter(|route| route.sources.contains(&row.envelope.source))
                .collect();
            let pending = Arc::new(Pending {
                seq: row.seq,
                remaining: AtomicUsize::new(targets.len().max(1)),
                done: done_tx.clone(),
            });
            if targets.is_empty() {
                pending.ack();
                continue;
            }
            let event = Arc::new(row.envelope);
            for route in targets {
                let delivery = Delivery {
                    event: event.clone(),
                    ack: Ack::Embedded(pending.clone()),
                };
                tokio::select! {
                    sent = route.input.send(delivery) => if sent.is_err() { return },
                    _ = stop.changed() => return,
                }
            }
        }
    }
    lease.release().await;
}
