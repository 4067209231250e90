//! The NATS JetStream backend. The relay publishes outbox rows to the stream with
//! `Nats-Msg-Id` = event id (the broker drops a repeat within its duplicate window), waits
//! for the acknowledgements, then marks the rows. Each subscription is one durable pull
//! consumer shared by every instance of its service. Both work only while the broker's
//! link is verified (`broker`), and start over when it moves to a new generation.

use crate::BusError;
use crate::ack::{Ack, Delivery};
use crate::broker::{self, Broker, Link};
use crate::envelope::Envelope;
use crate::handler::Subscription;
use crate::options::BusOptions;
use crate::outbox::Outbox;
use crate::relay::{Lease, Marks, Reader, Wait};
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::{self, consumer, message::PublishMessage};
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Rows published per batch, and batches awaiting acknowledgement at once.
const PUBLISH_BATCH: usize = 1000;
const WINDOW: usize = 4;

/// `{prefix}.{source}.{type}`: a consumer takes every event of the sources it follows.
pub(crate) fn subject(options: &BusOptions, event: &Envelope) -> String {
    format!(
        "{}.{}.{}",
        options.subject_prefix, event.source, event.event_type
    )
}

fn consumer_config(sub: &Subscription, options: &BusOptions) -> consumer::pull::Config {
    // One filter is all JetStream 2.9 takes: a consumer of several sources reads the whole
    // stream and passes over the rest.
    let filter_subject = match sub.sources().as_slice() {
        [only] => format!("{}.{only}.>", options.subject_prefix),
        _ => format!("{}.>", options.subject_prefix),
    };
    consumer::pull::Config {
        durable_name: Some(sub.name.clone()),
        description: Some(format!("ordo consumer {}", sub.name)),
        deliver_policy: consumer::DeliverPolicy::All,
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: options.ack_wait,
        // Retries and dead letters are the bus's own; the broker never gives up.
        max_deliver: -1,
        filter_subject,
        max_ack_pending: i64::try_from(options.batch_size.max(1) * options.concurrency.max(1) * 8)
            .unwrap_or(i64::MAX),
        ..Default::default()
    }
}

/// Creates the durable consumer of `sub`, or updates it. A change the broker cannot apply
/// in place (its filter) recreates it from the start of the stream; the inbox drops what
/// was handled before.
async fn ensure_consumer(
    js: &jetstream::Context,
    sub: &Subscription,
    options: &BusOptions,
) -> Result<consumer::Consumer<consumer::pull::Config>, BusError> {
    let stream = js
        .get_stream(&options.stream)
        .await
        .map_err(|e| BusError::Nats(format!("cannot open the stream {}: {e}", options.stream)))?;
    let config = consumer_config(sub, options);
    match stream.create_consumer(config.clone()).await {
        Ok(consumer) => Ok(consumer),
        // Only a refusal by the server (a change it cannot apply in place) replaces the
        // consumer; a timeout while JetStream recovers is retried, never a reason to make
        // every instance start the stream over.
        Err(first)
            if matches!(
                first.kind(),
                jetstream::stream::ConsumerErrorKind::JetStream(_)
            ) =>
        {
            tracing::warn!(consumer = %sub.name, error = %first, "recreating the durable consumer");
            stream.delete_consumer(&sub.name).await.map_err(|e| {
                BusError::Nats(format!("cannot replace consumer {}: {e}", sub.name))
            })?;
            stream
                .create_consumer(config)
                .await
                .map_err(|e| BusError::Nats(format!("cannot create consumer {}: {e}", sub.name)))
        }
        Err(error) => Err(BusError::Nats(format!(
            "cannot create consumer {}: {error}",
            sub.name
        ))),
    }
}

/// Publishes the outbox in order, keeping up to `WINDOW` batches in flight: the next batch
/// goes out while the broker is still acknowledging the previous ones, and each batch is
/// marked once all of its acknowledgements are in. On a failure everything unmarked is sent
/// again from the oldest row; the broker drops the repeats.
pub(crate) async fn relay(
    broker: Broker,
    outbox: Outbox,
    options: BusOptions,
    holder: String,
    mut stop: watch::Receiver<bool>,
) {
    let mut lease = Lease::new(outbox.db().clone(), holder, options.lease_ttl);
    let mut wait = Wait::new(options.poll_interval);
    let mut failures = 0_u32;
    let mut in_flight: VecDeque<(Vec<i64>, Vec<PublishAckFuture>)> = VecDeque::new();
    let mut marks = Marks::default();
    let mut reader = Reader::new();
    let mut link = broker.watch();
    let mut generation = 0_u64;
    loop {
        if *stop.borrow() {
            break;
        }
        let Some(ready) = broker::ready(&mut link, &mut stop).await else {
            break;
        };
        if ready != generation {
            // A new stream: the guard marked recent rows to send again; start from the oldest.
            // Rows the lost stream acknowledged but that are not marked yet are sent again
            // too: marking them now would lose them with it.
            generation = ready;
            in_flight.clear();
            marks = Marks::default();
            reader.rewind();
        }
        if !lease.hold().await {
            in_flight.clear();
            reader.rewind();
            wait.idle(&outbox, &mut stop).await;
            continue;
        }
        if marks.due(in_flight.is_empty()) && marks.flush(&outbox, &options).await.is_err() {
            return;
        }
        if in_flight.len() < WINDOW {
            let Some(rows) = reader
                .read(&outbox, PUBLISH_BATCH, &mut wait, &mut stop)
                .await
            else {
                continue;
            };
            if !rows.is_empty() {
                let seqs = rows.iter().map(|row| row.seq).collect();
                match publish(broker.js(), &options, rows.iter().map(|row| &row.envelope)).await {
                    Ok(acks) => in_flight.push_back((seqs, acks)),
                    Err(error) => {
                        failures += 1;
                        relay_failed(&broker, &outbox, &options, &error, failures, &mut stop).await;
                        in_flight.clear();
                        reader.rewind();
                    }
                }
                continue;
            }
        }
        let Some((seqs, acks)) = in_flight.pop_front() else {
            // Nothing in flight and nothing new: from the start at the next pass, which
            // also finds rows committed late with a lower sequence, or marked to republish.
            reader.rewind();
            tokio::select! {
                () = marks.deadline() => {}
                () = wait.idle(&outbox, &mut stop) => {}
            }
            continue;
        };
        if let Err(error) = confirmed(acks).await {
            failures += 1;
            relay_failed(&broker, &outbox, &options, &error, failures, &mut stop).await;
            in_flight.clear();
            reader.rewind();
            continue;
        }
        failures = 0;
        marks.add(seqs);
    }
    lease.release().await;
}

async fn relay_failed(
    broker: &Broker,
    outbox: &Outbox,
    options: &BusOptions,
    error: &BusError,
    failures: u32,
    stop: &mut watch::Receiver<bool>,
) {
    tracing::warn!(source = outbox.source(), %error, failures, "publishing to NATS failed; retrying");
    broker.suspect();
    tokio::select! {
        () = tokio::time::sleep(options.backoff(failures.min(6))) => {}
        _ = stop.changed() => {}
    }
}

/// Sends every event, pipelined; returns the acknowledgements to wait for. Order within
/// one connection is kept by the broker.
async fn publish<'a>(
    js: &jetstream::Context,
    options: &BusOptions,
    events: impl Iterator<Item = &'a Envelope>,
) -> Result<Vec<PublishAckFuture>, BusError> {
    let mut acks = Vec::new();
    for event in events {
        let payload = serde_json::to_vec(event).map_err(|source| BusError::Encode {
            event_type: "envelope",
            source,
        })?;
        let publish = PublishMessage::build()
            .payload(payload.into())
            .message_id(event.id.to_string());
        let ack = js
            .send_publish(subject(options, event), publish)
            .await
            .map_err(|e| BusError::Nats(format!("publish: {e}")))?;
        acks.push(ack);
    }
    Ok(acks)
}

async fn confirmed(acks: Vec<PublishAckFuture>) -> Result<(), BusError> {
    for ack in acks {
        ack.await
            .map_err(|e| BusError::Nats(format!("publish acknowledgement: {e}")))?;
    }
    Ok(())
}

/// Pulls the durable consumer of `sub` into `input` until stopped: while the broker's link
/// is verified, creating the durable consumer when it is missing (a new stream, a wiped
/// store) and pulling again after any failure.
pub(crate) async fn fetch(
    broker: Broker,
    sub: Subscription,
    options: BusOptions,
    input: mpsc::Sender<Delivery>,
    mut stop: watch::Receiver<bool>,
) {
    let mut lag = tokio::time::interval(Duration::from_secs(5));
    let mut failures = 0_u32;
    let mut link = broker.watch();
    loop {
        let Some(generation) = broker::ready(&mut link, &mut stop).await else {
            return;
        };
        let pulled = match ensure_consumer(broker.js(), &sub, &options).await {
            Ok(consumer) => consumer
                .stream()
                .max_messages_per_batch(options.batch_size.max(1))
                .heartbeat(Duration::from_secs(5))
                .expires(Duration::from_secs(30))
                .messages()
                .await
                .map(|messages| (consumer, messages))
                .map_err(|e| BusError::Nats(e.to_string())),
            Err(error) => Err(error),
        };
        let (consumer, mut messages) = match pulled {
            Ok(pulled) => pulled,
            Err(error) => {
                failures += 1;
                tracing::warn!(consumer = %sub.name, %error, "cannot pull from NATS; retrying");
                broker.suspect();
                tokio::select! {
                    () = tokio::time::sleep(options.backoff(failures.min(6))) => {}
                    _ = stop.changed() => return,
                }
                continue;
            }
        };
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                _ = lag.tick() => {
                    record_lag(&consumer, &sub).await;
                    continue;
                }
                changed = link.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if *link.borrow() == Link::Ready(generation) {
                        continue;
                    }
                    // The link is in doubt or the stream is new: find the consumer again.
                    break;
                }
                _ = stop.changed() => return,
            };
            let message = match next {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    tracing::warn!(consumer = %sub.name, %error, "pulling from NATS failed");
                    break;
                }
                None => break,
            };
            failures = 0;
            let event: Envelope = match serde_json::from_slice(&message.payload) {
                Ok(event) => event,
                Err(error) => {
                    // Not ours to handle and never will be: drop it loudly.
                    tracing::error!(consumer = %sub.name, subject = %message.subject, %error, "dropping a message that is not a CloudEvent");
                    metrics::counter!("bus_malformed_total", "consumer" => sub.name.clone())
                        .increment(1);
                    let _ = message.ack().await;
                    continue;
                }
            };
            if !sub.follows(&event.source) {
                let _ = message.ack().await;
                continue;
            }
            let delivery = Delivery {
                event: Arc::new(event),
                ack: Ack::Nats(Box::new(message)),
            };
            if input.send(delivery).await.is_err() {
                return;
            }
        }
    }
}

async fn record_lag(consumer: &consumer::Consumer<consumer::pull::Config>, sub: &Subscription) {
    if let Ok(info) = consumer.get_info().await {
        let lag = info.num_pending + u64::try_from(info.num_ack_pending).unwrap_or(0);
        metrics::gauge!("bus_consumer_lag", "consumer" => sub.name.clone()).set(lag as f64);
    }
}
