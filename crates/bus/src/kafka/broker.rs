//! The link to Kafka and what its guard verifies: the topics. The clients start without
//! the brokers and connect when they come (librdkafka reconnects by itself). The guard
//! creates the topics that are missing; a topic that vanished, or a partition whose log
//! went back (a relay saw an offset below one acknowledged before), means the brokers lost
//! what they held: the resend window goes again and the link moves to a new generation
//! (`link`).

use crate::BusError;
use crate::link::{self, Link, Signals, Verify};
use crate::options::BusOptions;
use crate::outbox::Outbox;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, Producer as _};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// How long a request to the brokers may take before it counts as failed.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// librdkafka's log lines and errors, in the platform's log; its errors also tell the
/// guard to look and readiness why publishing fails.
#[derive(Clone)]
pub(super) struct Context {
    signals: Signals,
    health: crate::BusHealth,
    /// Why the brokers refused this client (its credentials, its certificate), until the
    /// guard has reached them again.
    refused: Arc<Mutex<Option<String>>>,
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error
            | RDKafkaLogLevel::Warning => tracing::warn!(facility, "librdkafka: {line}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(facility, "librdkafka: {line}");
            }
            RDKafkaLogLevel::Debug => tracing::debug!(facility, "librdkafka: {line}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(%error, "Kafka: {reason}");
        let code = error.rdkafka_error_code();
        if matches!(
            code,
            Some(
                RDKafkaErrorCode::Authentication
                    | RDKafkaErrorCode::SaslAuthenticationFailed
                    | RDKafkaErrorCode::TopicAuthorizationFailed
                    | RDKafkaErrorCode::ClusterAuthorizationFailed
                    | RDKafkaErrorCode::SSL
            )
        ) {
            *self.refused.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(format!("the Kafka brokers refused Ordo: {reason}"));
        }
        if matches!(
            code,
            Some(RDKafkaErrorCode::AllBrokersDown | RDKafkaErrorCode::Fatal)
        ) || self.refused().is_some()
        {
            self.health
                .failing(&self.refused().unwrap_or_else(|| format!("Kafka: {reason}")));
            self.signals.suspect();
        }
    }
}

impl Context {
    fn refused(&self) -> Option<String> {
        self.refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

pub(super) type Producer = FutureProducer<Context>;

/// Shared by the relays, the consumers and the guard of one bus; cheap to clone.
#[derive(Clone)]
pub(crate) struct Broker(Arc<Inner>);

struct Inner {
    /// What every client of this bus is configured with: the brokers and the security
    /// settings passed through.
    base: ClientConfig,
    options: BusOptions,
    context: Context,
    /// Replaced when librdkafka reports it failed for good (an idempotent producer whose
    /// sequence the brokers lost, say).
    producer: Mutex<Arc<Producer>>,
    admin: AdminClient<Context>,
    outboxes: Vec<Outbox>,
    /// Every topic this bus reads or writes.
    topics: Vec<String>,
    /// Sources whose relay saw the brokers' log go back.
    lost: Mutex<HashSet<String>>,
    /// A relay's deliveries timed out: the brokers may no longer know the producer (an
    /// idempotent producer's id is forgotten with a lost store), so a new one is made.
    stale: AtomicBool,
}

impl Broker {
    /// Makes the clients; none of them waits for the brokers.
    pub(crate) fn connect(
        brokers: &str,
        options: &BusOptions,
        outboxes: Vec<Outbox>,
        mut topics: Vec<String>,
    ) -> Result<Broker, BusError> {
        let mut base = ClientConfig::new();
        base.set("bootstrap.servers", brokers)
            .set("client.id", "ordo")
            // The default backs off up to 10 s; a broker back should be used sooner.
            .set("reconnect.backoff.max.ms", "1000");
        let context = Context {
            signals: Signals::new(),
            health: options.health.clone(),
            refused: Arc::new(Mutex::new(None)),
        };
        let producer = new_producer(&base, options, &context)?;
        let mut admin = base.clone();
        pass_through(&mut admin, options);
        let admin = admin
            .create_with_context(context.clone())
            .map_err(|e| BusError::Kafka(format!("cannot make the Kafka admin client: {e}")))?;
        topics.extend(
            outboxes
                .iter()
                .map(|outbox| topic(options, outbox.source())),
        );
        topics.sort();
        topics.dedup();
        Ok(Broker(Arc::new(Inner {
            base,
            options: options.clone(),
            context,
            producer: Mutex::new(Arc::new(producer)),
            admin,
            outboxes,
            topics,
            lost: Mutex::new(HashSet::new()),
            stale: AtomicBool::new(false),
        })))
    }

    pub(super) fn options(&self) -> &BusOptions {
        &self.0.options
    }

    /// The producer in use now.
    pub(super) fn producer(&self) -> Arc<Producer> {
        self.0
            .producer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A client configuration with this bus's brokers, for a consumer: its own settings
    /// next, then [`Broker::pass_through`].
    pub(super) fn config(&self) -> ClientConfig {
        self.0.base.clone()
    }

    /// Applies the operator's client properties (security, tuning) over the defaults.
    pub(super) fn pass_through(&self, config: &mut ClientConfig) {
        pass_through(config, &self.0.options);
    }

    pub(super) fn context(&self) -> Context {
        self.0.context.clone()
    }

    /// Sending or reading failed: hold everything until the guard has looked again.
    pub(crate) fn suspect(&self) {
        self.0.context.signals.suspect();
    }

    pub(crate) fn watch(&self) -> watch::Receiver<Link> {
        self.0.context.signals.watch()
    }

    pub(crate) fn signals(&self) -> &Signals {
        &self.0.context.signals
    }

    /// The relay of `source` saw the brokers' log go back: they lost what they held.
    pub(super) fn lost(&self, source: &str) {
        self.0
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(source.to_owned());
        self.suspect();
    }

    /// A relay's deliveries timed out: the guard makes a new producer.
    pub(super) fn stale(&self) {
        self.0.stale.store(true, Ordering::SeqCst);
        self.suspect();
    }

    /// Keeps the topics there until `stop`.
    pub(crate) async fn guard(self, stop: watch::Receiver<bool>) {
        let (signals, options) = (self.0.context.signals.clone(), self.0.options.clone());
        let topics = Topics {
            broker: self,
            known: HashSet::new(),
        };
        signals.guard(topics, "Kafka", options, stop).await;
    }

    /// The names of the topics the brokers have now.
    async fn present(&self) -> Result<HashSet<String>, BusError> {
        let broker = self.clone();
        tokio::task::spawn_blocking(move || {
            let producer = broker.producer();
            let metadata = producer
                .client()
                .fetch_metadata(None, REQUEST_TIMEOUT)
                .map_err(|e| {
                    // Refused, the brokers said why; unreachable, the client does.
                    BusError::Kafka(
                        broker
                            .0
                            .context
                            .refused()
                            .unwrap_or_else(|| format!("cannot reach the Kafka brokers: {e}")),
                    )
                })?;
            *broker
                .0
                .context
                .refused
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            Ok(metadata
                .topics()
                .iter()
                .filter(|topic| topic.error().is_none())
                .map(|topic| topic.name().to_owned())
                .collect())
        })
        .await
        .map_err(|e| BusError::Kafka(format!("looking at the topics stopped: {e}")))?
    }

    /// Creates `names` with the configured partitions, replicas and retention.
    async fn create(&self, names: &[&String]) -> Result<(), BusError> {
        let options = &self.0.options;
        let retention = options.stream_max_age.as_millis().to_string();
        let replicas = i32::try_from(options.stream_replicas).unwrap_or(1);
        let topics: Vec<NewTopic<'_>> = names
            .iter()
            .map(|name| {
                NewTopic::new(name, options.partitions, TopicReplication::Fixed(replicas))
                    .set("retention.ms", &retention)
            })
            .collect();
        let admin = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .0
            .admin
            .create_topics(&topics, &admin)
            .await
            .map_err(|e| BusError::Kafka(format!("cannot create the topics: {e}")))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(BusError::Kafka(format!(
                        "cannot create the topic {name}: {code}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Makes a new producer when librdkafka says the one in use failed for good, when it
    /// is `stale`, or when the brokers were found to have lost their store (`lost`): they
    /// no longer know its id, and would refuse it until its deliveries time out. The old
    /// one is dropped off the runtime's threads (it waits a moment to purge its queue).
    fn renew_producer(&self, lost: bool) -> Result<(), BusError> {
        let stale = self.0.stale.swap(false, Ordering::SeqCst);
        let mut producer = self
            .0
            .producer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let fatal = producer.client().fatal_error();
        if fatal.is_none() && !stale && !lost {
            return Ok(());
        }
        tracing::warn!(fatal = ?fatal, stale, lost, "making a new Kafka producer");
        let renewed = Arc::new(new_producer(
            &self.0.base,
            &self.0.options,
            &self.0.context,
        )?);
        let old = std::mem::replace(&mut *producer, renewed);
        tokio::task::spawn_blocking(move || drop(old));
        Ok(())
    }
}

/// The operator's librdkafka properties (`bus.kafka`): security (`security.protocol`,
/// `sasl.*`, `ssl.*`) and tuning.
fn pass_through(config: &mut ClientConfig, options: &BusOptions) {
    for (key, value) in &options.kafka {
        config.set(key, value.expose());
    }
}

/// An idempotent producer: every event acknowledged by all in-sync replicas, none written
/// twice or out of order by the producer's own retries.
fn new_producer(
    base: &ClientConfig,
    options: &BusOptions,
    context: &Context,
) -> Result<Producer, BusError> {
    let mut config = base.clone();
    config
        // As the Java client partitions: the same key lands where other producers put it.
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "2")
        // A delivery not acknowledged by then fails, and the relay sends it again.
        .set("message.timeout.ms", "30000");
    pass_through(&mut config, options);
    config.set("enable.idempotence", "true").set("acks", "all");
    config
        .create_with_context(context.clone())
        .map_err(|e| BusError::Kafka(format!("cannot make the Kafka producer: {e}")))
}

/// `{prefix}.{source}`: one topic per publishing service.
pub(crate) fn topic(options: &BusOptions, source: &str) -> String {
    format!("{}.{source}", options.subject_prefix)
}

/// The topics as the guard knows them.
struct Topics {
    broker: Broker,
    known: HashSet<String>,
}

impl Verify for Topics {
    /// Creates the topics that are missing. One this process knew before, or a log a relay
    /// saw go back, means the brokers lost what they held: the outboxes of those topics
    /// send their window again. At a first start, a missing topic is sent the window too
    /// (the brokers may have lost it while this process was down).
    async fn verify(&mut self) -> Result<bool, BusError> {
        let broker = &self.broker;
        let present = broker.present().await?;
        let missing: Vec<&String> = broker
            .0
            .topics
            .iter()
            .filter(|name| !present.contains(*name))
            .collect();
        if !missing.is_empty() {
            tracing::info!(topics = ?missing, "creating the Kafka topics");
            broker.create(&missing).await?;
        }
        let lost: HashSet<String> = broker
            .0
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let renewed = !lost.is_empty() || missing.iter().any(|name| self.known.contains(*name));
        broker.renew_producer(renewed)?;
        for outbox in &broker.0.outboxes {
            let name = topic(&broker.0.options, outbox.source());
            if missing.contains(&&name) || lost.contains(outbox.source()) {
                tracing::warn!(topic = %name, "the Kafka topic may have lost events; sending recent ones again");
                link::resend(outbox, &broker.0.options).await?;
            }
        }
        broker
            .0
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|source| !lost.contains(source));
        if renewed {
            metrics::counter!("bus_stream_recreated_total").increment(1);
        }
        self.known.extend(broker.0.topics.iter().cloned());
        Ok(renewed)
    }
}
