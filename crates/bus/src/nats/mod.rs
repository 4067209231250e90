//! The NATS JetStream backend. The relay publishes outbox rows to the stream with
//! `Nats-Msg-Id` = event id (the broker drops a repeat within its duplicate window), waits
//! for the acknowledgements, then marks the rows. Each subscription is one durable pull
//! consumer shared by every instance of its service. Both work only while the broker's
//! link is verified (`link`), and start over when it moves to a new generation.

mod broker;

pub(crate) use broker::Broker;

use crate::BusError;
use crate::ack::{Ack, Delivery};
use crate::echoes::Echoes;
use crate::envelope::Envelope;
use crate::handler::Subscription;
use crate::link::{self, Link, Signals};
use crate::options::BusOptions;
use crate::relay;
use crate::store::OutboxRow;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::{self, consumer, message::PublishMessage};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

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

/// Sends an outbox's events to the stream, for the relay.
pub(crate) struct Publisher {
    pub(crate) broker: Broker,
    pub(crate) options: BusOptions,
}

impl relay::Publisher for Publisher {
    type Acks = Vec<PublishAckFuture>;
    const BROKER: &'static str = "NATS";

    fn signals(&self) -> &Signals {
        self.broker.signals()
    }

    /// Sends every event, pipelined; order within one connection is kept by the broker.
    async fn publish(&mut self, rows: &[OutboxRow]) -> Result<Self::Acks, BusError> {
        let mut acks = Vec::with_capacity(rows.len());
        for row in rows {
            let event = &row.envelope;
            let payload = serde_json::to_vec(event).map_err(|source| BusError::Encode {
                event_type: "envelope",
                source,
            })?;
            let publish = PublishMessage::build()
                .payload(payload.into())
                .message_id(event.id.to_string());
            let ack = self
                .broker
                .js()
                .send_publish(subject(&self.options, event), publish)
                .await
                .map_err(|e| BusError::Nats(format!("publish: {e}")))?;
            acks.push(ack);
        }
        Ok(acks)
    }

    async fn confirmed(&mut self, acks: Self::Acks) -> Result<(), BusError> {
        for ack in acks {
            ack.await
                .map_err(|e| BusError::Nats(format!("publish acknowledgement: {e}")))?;
        }
        Ok(())
    }
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
        let Some(generation) = link::ready(&mut link, &mut stop).await else {
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
                if !broker.signals().failed(&options, failures, &mut stop).await {
                    return;
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

/// Where the wake-ups of `topic` go: never under the stream's subjects, which would keep
/// them and hand them to the consumers as events.
fn wake_subject(prefix: &str, topic: &str) -> String {
    format!("_ORDO_WAKE.{prefix}.{topic}")
}

/// Carries this process's wake-ups through core NATS subjects beside the stream, until
/// `stop`. Nothing waits for the broker, which may be down: sending starts at once (what
/// cannot go yet is dropped), hearing once the subscriptions are made.
pub(crate) async fn echoes(echoes: Echoes, broker: Broker, mut stop: watch::Receiver<bool>) {
    let (client, prefix) = (broker.client(), broker.prefix().to_owned());
    let (sender, sent_prefix) = (client.clone(), prefix.clone());
    echoes.carried_by(Box::new(move |topic, payload| {
        let (client, subject) = (sender.clone(), wake_subject(&sent_prefix, topic));
        tokio::spawn(async move {
            if let Err(error) = client.publish(subject, payload.into()).await {
                tracing::debug!(%error, "a wake-up was not sent to the other processes");
            }
        });
    }));
    let mut heard = Vec::new();
    let mut deaf = false;
    for topic in echoes.topics() {
        match client.subscribe(wake_subject(&prefix, &topic)).await {
            Ok(subscriber) => heard.push(subscriber.map(move |message| (topic.clone(), message))),
            Err(error) => {
                tracing::warn!(%error, topic, "wake-ups from other processes will not be heard");
                deaf = true;
            }
        }
    }
    let mut heard = futures_util::stream::select_all(heard);
    echoes.set_hearing(!deaf);
    loop {
        let next = tokio::select! {
            next = heard.next() => next,
            _ = stop.wait_for(|stopped| *stopped) => None,
        };
        let Some((topic, message)) = next else { return };
        echoes.heard(&topic, &message.payload);
    }
}
