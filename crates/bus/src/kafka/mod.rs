//! The Kafka backend. Each publishing service has a topic (`{prefix}.{source}`); an event's
//! key is its subject, so one subject's events stay in one partition, in order. The value
//! is the CloudEvents envelope (structured mode), its attributes also as `ce_` headers (the
//! CloudEvents Kafka binding). The relay sends with an idempotent producer (`acks=all`) and
//! marks rows only once the brokers acknowledged them. Each subscription is a consumer
//! group shared by every instance of its service; offsets are committed after the handler's
//! transaction committed (`offsets`). Both work only while the link is verified (`link`),
//! and the consumers join again when it moves to a new generation.

mod broker;
mod offsets;

pub(crate) use broker::Broker;
pub(crate) use offsets::Token;

use crate::BusError;
use crate::ack::{Ack, Delivery};
use crate::echoes::Echoes;
use crate::envelope::Envelope;
use crate::handler::Subscription;
use crate::link::{self, Link, Signals};
use crate::options::BusOptions;
use crate::relay;
use crate::store::OutboxRow;
use broker::{REQUEST_TIMEOUT, topic};
use offsets::{ConsumerHooks, Offsets};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

/// How often a consumer commits the offsets of what its handlers finished.
const COMMIT_EVERY: Duration = Duration::from_millis(100);
/// How long a consumer that rejoins waits for the one before it to leave the group.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// The topic the processes' wake-ups travel on, beside the events.
pub(crate) fn wake_topic(options: &BusOptions) -> String {
    format!("{}._wake", options.subject_prefix)
}

/// The topics `sub` reads.
pub(crate) fn topics_of(options: &BusOptions, sub: &Subscription) -> Vec<String> {
    sub.sources()
        .into_iter()
        .map(|source| topic(options, source))
        .collect()
}

/// Sends an outbox's events to its topic, for the relay.
pub(crate) struct Publisher {
    broker: Broker,
    source: String,
    topic: String,
    /// The last offset acknowledged in each partition: one lower later means the brokers
    /// lost their log.
    acknowledged: HashMap<i32, i64>,
}

impl Publisher {
    pub(crate) fn new(broker: Broker, source: &str) -> Self {
        let topic = topic(broker.options(), source);
        Self {
            broker,
            source: source.to_owned(),
            topic,
            acknowledged: HashMap::new(),
        }
    }
}

/// The CloudEvents attributes as Kafka headers, beside the structured envelope.
fn headers(event: &Envelope) -> OwnedHeaders {
    let id = event.id.to_string();
    let time = event
        .time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    [
        (
            "content-type",
            "application/cloudevents+json; charset=UTF-8",
        ),
        ("ce_specversion", event.specversion.as_str()),
        ("ce_id", id.as_str()),
        ("ce_source", event.source.as_str()),
        ("ce_type", event.event_type.as_str()),
        ("ce_subject", event.subject.as_str()),
        ("ce_time", time.as_str()),
    ]
    .into_iter()
    .fold(
        OwnedHeaders::new_with_capacity(7),
        |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        },
    )
}

impl relay::Publisher for Publisher {
    type Acks = Vec<DeliveryFuture>;
    const BROKER: &'static str = "Kafka";

    fn signals(&self) -> &Signals {
        self.broker.signals()
    }

    fn restart(&mut self) {
        self.acknowledged.clear();
    }

    async fn publish(&mut self, rows: &[OutboxRow]) -> Result<Self::Acks, BusError> {
        let producer = self.broker.producer();
        let mut acks = Vec::with_capacity(rows.len());
        for row in rows {
            let event = &row.envelope;
            let payload = serde_json::to_vec(event).map_err(|source| BusError::Encode {
                event_type: "envelope",
                source,
            })?;
            let record = FutureRecord::to(&self.topic)
                .key(event.subject.as_bytes())
                .payload(&payload)
                .headers(headers(event));
            let ack = producer
                .send_result(record)
                .map_err(|(error, _)| BusError::Kafka(format!("produce: {error}")))?;
            acks.push(ack);
        }
        Ok(acks)
    }

    async fn confirmed(&mut self, acks: Self::Acks) -> Result<(), BusError> {
        for ack in acks {
            let delivery = match ack.await {
                Ok(Ok(delivery)) => delivery,
                Ok(Err((error, _))) => {
                    if error.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageTimedOut) {
                        self.broker.stale();
                    }
                    return Err(BusError::Kafka(format!("delivery: {error}")));
                }
                Err(_) => return Err(BusError::Kafka("the producer went away".into())),
            };
            let last = self.acknowledged.entry(delivery.partition).or_insert(-1);
            if delivery.offset <= *last {
                self.acknowledged.clear();
                self.broker.lost(&self.source);
                return Err(BusError::Kafka(format!(
                    "partition {} of {} went back to offset {}: the brokers lost events",
                    delivery.partition, self.topic, delivery.offset
                )));
            }
            *last = delivery.offset;
        }
        Ok(())
    }
}

/// A consumer of this bus's brokers in `group`, with the settings every one needs.
fn consumer(
    broker: &Broker,
    group: &str,
    hooks: ConsumerHooks,
    from: &str,
) -> Result<StreamConsumer<ConsumerHooks>, BusError> {
    let mut config = broker.config();
    config
        .set("fetch.wait.max.ms", "100")
        .set("session.timeout.ms", "10000")
        .set("statistics.interval.ms", "5000");
    broker.pass_through(&mut config);
    config
        .set("group.id", group)
        // Offsets are the bus's to commit, after the handlers' transactions.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", from);
    config
        .create_with_context(hooks)
        .map_err(|e| BusError::Kafka(format!("cannot make a Kafka consumer: {e}")))
}

/// Reads the consumer group of `sub` into `input` until stopped: while the link is
/// verified, joining the group again when the link moves to a new generation.
pub(crate) async fn fetch(
    broker: Broker,
    sub: Subscription,
    input: mpsc::Sender<Delivery>,
    mut stop: watch::Receiver<bool>,
) {
    let options = broker.options().clone();
    let group = format!("{}.{}", options.subject_prefix, sub.name);
    let topics = topics_of(&options, &sub);
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    let mut link = broker.watch();
    let mut failures = 0_u32;
    loop {
        let Some(generation) = link::ready(&mut link, &mut stop).await else {
            return;
        };
        let offsets = Arc::new(Offsets::default());
        let cut_off = Arc::new(Notify::new());
        let hooks = ConsumerHooks {
            client: broker.context(),
            offsets: offsets.clone(),
            name: sub.name.clone(),
            cut_off: cut_off.clone(),
        };
        let joined = consumer(&broker, &group, hooks, "earliest").and_then(|consumer| {
            consumer
                .subscribe(&topics)
                .map(|()| Arc::new(consumer))
                .map_err(|e| BusError::Kafka(format!("cannot subscribe to {topics:?}: {e}")))
        });
        let consumer = match joined {
            Ok(consumer) => consumer,
            Err(error) => {
                failures += 1;
                tracing::warn!(consumer = %sub.name, %error, "cannot read from Kafka; retrying");
                if !broker.signals().failed(&options, failures, &mut stop).await {
                    return;
                }
                continue;
            }
        };
        failures = 0;
        let ended = consume(
            &consumer,
            (&broker, &offsets, &cut_off),
            &sub,
            &input,
            (&mut link, generation),
            &mut stop,
        )
        .await;
        // Gone from the group before a new consumer joins it: a member that lingers holds
        // the group's rebalance until its session times out. A close that waits on a broker
        // longer goes on behind.
        let closed = close(consumer, &offsets, &ended);
        if !matches!(tokio::time::timeout(CLOSE_WITHIN, closed).await, Ok(Ok(()))) {
            tracing::warn!(consumer = %sub.name, "a Kafka consumer did not close in time");
        }
        if ended == Ended::Stopped {
            return;
        }
    }
}

/// Why a consumer stopped reading.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The bus stops.
    Stopped,
    /// The brokers were made again, or cannot be followed: a new consumer joins once the
    /// link is verified. What this one read may belong to brokers that are gone: none of
    /// its offsets is committed (a new log's group would skip its events).
    Rejoin,
}

/// Hands what `consumer` reads to `input`, committing what is done, until the bus stops or
/// the link moves to a new generation (the brokers were made again). Cut off from every
/// broker, the consumer stops fetching until the guard has looked at the brokers again: the
/// same ones, it goes on as the same member of its group; brokers that came back empty, it
/// rejoins (and never fetches from them with what it knew of the ones before).
async fn consume(
    consumer: &StreamConsumer<ConsumerHooks>,
    (broker, offsets, cut_off): (&Broker, &Arc<Offsets>, &Notify),
    sub: &Subscription,
    input: &mpsc::Sender<Delivery>,
    (link, generation): (&mut watch::Receiver<Link>, u64),
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let mut commit = tokio::time::interval(COMMIT_EVERY);
    commit.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut held = false;
    loop {
        let message = tokio::select! {
            message = consumer.recv() => message,
            _ = commit.tick() => {
                if !held
                    && let Some(due) = offsets.due(None)
                    && let Err(error) = consumer.commit(&due, CommitMode::Async)
                {
                    tracing::warn!(consumer = %sub.name, %error, "cannot commit offsets");
                }
                continue;
            }
            () = cut_off.notified() => {
                held = hold(consumer, broker, sub);
                continue;
            }
            changed = link.changed() => {
                if changed.is_err() {
                    return Ended::Stopped;
                }
                match *link.borrow_and_update() {
                    Link::Ready(now) if now != generation => return Ended::Rejoin,
                    Link::Ready(_) if held => {
                        held = false;
                        if let Err(error) = consumer.assignment().and_then(|assigned| consumer.resume(&assigned)) {
                            tracing::warn!(consumer = %sub.name, %error, "cannot resume fetching; joining again");
                            return Ended::Rejoin;
                        }
                        tracing::info!(consumer = %sub.name, "the Kafka brokers are back; fetching again");
                    }
                    _ => {}
                }
                continue;
            }
            _ = stop.changed() => return Ended::Stopped,
        };
        let delivery = match message {
            Ok(message) => received(&message, offsets, sub),
            Err(error) if cut_off_by(&error) => {
                held = hold(consumer, broker, sub);
                continue;
            }
            Err(error) => {
                tracing::warn!(consumer = %sub.name, %error, "reading from Kafka failed");
                continue;
            }
        };
        if let Some(delivery) = delivery
            && input.send(delivery).await.is_err()
        {
            return Ended::Stopped;
        }
    }
}

/// Stops `consumer` fetching until the guard has looked at the brokers again (it is told
/// to); returns whether it is held (if not, the consumer must join again).
fn hold(consumer: &StreamConsumer<ConsumerHooks>, broker: &Broker, sub: &Subscription) -> bool {
    tracing::warn!(consumer = %sub.name, "cut off from the Kafka brokers; fetching again once they are verified");
    broker.suspect();
    match consumer
        .assignment()
        .and_then(|assigned| consumer.pause(&assigned))
    {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(consumer = %sub.name, %error, "cannot stop fetching");
            false
        }
    }
}

/// Whether `error` says every connection to the brokers dropped.
fn cut_off_by(error: &KafkaError) -> bool {
    error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown)
}

/// The delivery of `message` for `sub`; `None` for what is not its to handle (done at once).
fn received(
    message: &BorrowedMessage<'_>,
    offsets: &Arc<Offsets>,
    sub: &Subscription,
) -> Option<Delivery> {
    let token = offsets.delivered(message.topic(), message.partition(), message.offset());
    let event: Envelope = match serde_json::from_slice(message.payload().unwrap_or_default()) {
        Ok(event) => event,
        Err(error) => {
            // Not ours to handle and never will be: drop it loudly.
            tracing::error!(consumer = %sub.name, topic = message.topic(), offset = message.offset(), %error, "dropping a message that is not a CloudEvent");
            metrics::counter!("bus_malformed_total", "consumer" => sub.name.clone()).increment(1);
            token.done();
            return None;
        }
    };
    if !sub.follows(&event.source) {
        token.done();
        return None;
    }
    Some(Delivery {
        event: Arc::new(event),
        ack: Ack::Kafka(token),
    })
}

/// Leaves the group, so its partitions go to the other instances at once: after
/// committing what is done when the bus stops, or, when it rejoins, after letting go of
/// its partitions at once (a broker that came back empty must not be read from, nor given
/// offsets of the log it lost). librdkafka's close waits on the brokers: it runs off the
/// runtime's threads.
fn close(
    consumer: Arc<StreamConsumer<ConsumerHooks>>,
    offsets: &Offsets,
    ended: &Ended,
) -> tokio::task::JoinHandle<()> {
    let rejoin = *ended == Ended::Rejoin;
    if rejoin {
        offsets.forget();
    }
    let due = offsets.due(None);
    tokio::task::spawn_blocking(move || {
        if rejoin && let Err(error) = consumer.unassign() {
            tracing::debug!(%error, "a consumer kept its partitions until closed");
        }
        if let Some(due) = due
            && let Err(error) = consumer.commit(&due, CommitMode::Sync)
        {
            tracing::debug!(%error, "offsets not committed at close; redelivered later");
        }
        consumer.unsubscribe();
        drop(consumer);
    })
}

/// Carries this process's wake-ups on the wake-up topic until `stop`: sent with the bus's
/// producer (what cannot go is dropped), heard by a consumer of this process's own that
/// reads every partition from its end.
pub(crate) async fn echoes(
    echoes: Echoes,
    broker: Broker,
    holder: String,
    mut stop: watch::Receiver<bool>,
) {
    let topic = wake_topic(broker.options());
    let sender = broker.clone();
    let sent_to = topic.clone();
    echoes.carried_by(Box::new(move |name, payload| {
        let record = FutureRecord::to(&sent_to).key(name).payload(&payload);
        // Best effort: the acknowledgement is not waited for.
        if let Err((error, _)) = sender.producer().send_result(record) {
            tracing::debug!(%error, "a wake-up was not sent to the other processes");
        }
    }));
    if echoes.topics().is_empty() {
        return;
    }
    let group = format!("{}._wake.{holder}", broker.options().subject_prefix);
    let mut link = broker.watch();
    loop {
        let Some(generation) = link::ready(&mut link, &mut stop).await else {
            return;
        };
        let cut_off = Arc::new(Notify::new());
        let consumer = match from_the_end(&broker, &group, &topic, cut_off.clone()).await {
            Ok(consumer) => consumer,
            Err(error) => {
                tracing::warn!(%error, "wake-ups from other processes are not heard yet");
                if !broker
                    .signals()
                    .failed(broker.options(), 4, &mut stop)
                    .await
                {
                    return;
                }
                continue;
            }
        };
        echoes.set_hearing(true);
        let ended = loop {
            tokio::select! {
                message = consumer.recv() => match message {
                    Ok(message) => {
                        if let Some(name) = message.key().and_then(|key| std::str::from_utf8(key).ok()) {
                            echoes.heard(name, message.payload().unwrap_or_default());
                        }
                    }
                    Err(error) if cut_off_by(&error) => break Ended::Rejoin,
                    Err(error) => tracing::debug!(%error, "reading wake-ups failed"),
                },
                () = cut_off.notified() => break Ended::Rejoin,
                changed = link.changed() => {
                    if changed.is_err() {
                        break Ended::Stopped;
                    }
                    if matches!(*link.borrow(), Link::Ready(now) if now != generation) {
                        break Ended::Rejoin;
                    }
                }
                _ = stop.changed() => break Ended::Stopped,
            }
        };
        echoes.set_hearing(false);
        let _ = close(consumer, &Offsets::default(), &ended).await;
        if ended == Ended::Stopped {
            return;
        }
    }
}

/// A consumer of `topic` in a group of its own, assigned every partition at its end: it
/// hears everything sent from now on, and nothing sent before.
async fn from_the_end(
    broker: &Broker,
    group: &str,
    topic: &str,
    cut_off: Arc<Notify>,
) -> Result<Arc<StreamConsumer<ConsumerHooks>>, BusError> {
    let hooks = ConsumerHooks {
        client: broker.context(),
        offsets: Arc::new(Offsets::default()),
        // One name for every instance: the lag gauge's labels stay few.
        name: "wake-ups".to_owned(),
        cut_off,
    };
    let consumer = consumer(broker, group, hooks, "latest")?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let failed = |e: KafkaError| BusError::Kafka(format!("cannot read {topic}: {e}"));
        let metadata = consumer
            .fetch_metadata(Some(&topic), REQUEST_TIMEOUT)
            .map_err(failed)?;
        let mut assignment = TopicPartitionList::new();
        for partition in metadata
            .topics()
            .iter()
            .flat_map(|found| found.partitions())
        {
            let (_, end) = consumer
                .fetch_watermarks(&topic, partition.id(), REQUEST_TIMEOUT)
                .map_err(failed)?;
            assignment
                .add_partition_offset(&topic, partition.id(), Offset::Offset(end))
                .map_err(failed)?;
        }
        consumer.assign(&assignment).map_err(failed)?;
        Ok(Arc::new(consumer))
    })
    .await
    .map_err(|e| BusError::Kafka(format!("reading wake-ups stopped: {e}")))?
}
