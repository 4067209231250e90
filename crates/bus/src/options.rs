//! How the bus runs: the backend, retry policy, batching and retention.

use crate::BusError;
use crate::faults::Faults;
use crate::health::BusHealth;
use ordo_kernel::Secret;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct BusOptions {
    /// `nats://[user:password@]host:port` to relay through NATS JetStream,
    /// `kafka://host:port[,host:port…]` through Kafka; `None` for the in-process bus.
    pub url: Option<String>,
    /// The JetStream stream holding every event.
    pub stream: String,
    /// The first token of every NATS subject (`{prefix}.{source}.{type}`), Kafka topic
    /// (`{prefix}.{source}`) and Kafka consumer group (`{prefix}.{subscription}`).
    pub subject_prefix: String,
    /// Partitions of each Kafka topic the bus creates: how many instances of a consumer
    /// can share its events.
    pub partitions: i32,
    /// How the NATS connection proves who it is and encrypts: beside a user and password
    /// in the URL.
    pub nats: NatsSecurity,
    /// librdkafka properties for every Kafka client (`security.protocol`, `sasl.*`,
    /// `ssl.*`, tuning); the bus's own guarantees (idempotence, `acks=all`, manual commits)
    /// cannot be overridden.
    pub kafka: BTreeMap<String, Secret<String>>,
    /// Attempts before an event is dead-lettered (the first try counts).
    pub max_attempts: u32,
    /// The first retry waits about this long; each further one twice as long, with jitter.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Events handled in one consumer transaction at most.
    pub batch_size: usize,
    /// Subjects a consumer handles at the same time at most (each in order).
    pub concurrency: usize,
    /// How long a consumer holds back an event whose subject's earlier events have not
    /// come before it reports the gap: the event is dead-lettered, naming what is missing,
    /// and the subject moves on.
    pub gap_timeout: Duration,
    /// How long JetStream waits for an acknowledgement before redelivering.
    pub ack_wait: Duration,
    /// Published outbox rows are kept this long, so `bus republish` can resend them.
    pub outbox_retention: Duration,
    /// Inbox entries are kept this long: longer than any redelivery can come late.
    pub inbox_retention: Duration,
    /// Events older than this leave the JetStream stream.
    pub stream_max_age: Duration,
    /// Servers holding a copy of every event (JetStream `num_replicas`, a Kafka topic's
    /// replication factor): 3 in a cluster, so an acknowledgement means a quorum has it.
    pub stream_replicas: usize,
    /// When the stream is found lost (the broker's store was wiped or rebuilt), outbox rows
    /// published this long before are sent again: the lost store may have held them
    /// undelivered. The inboxes drop the repeats.
    pub resend_window: Duration,
    /// A relay instance that stops renewing its lease is replaced after this long.
    pub lease_ttl: Duration,
    /// The relay's fallback poll (a commit in this process wakes it at once) and the
    /// consumers' check for dead letters to replay.
    pub poll_interval: Duration,
    /// Crash points for tests; none are armed in production.
    pub faults: Faults,
    /// Notified whenever consumers commit or the relay marks events published: tests and
    /// tools wait on it instead of polling.
    pub progress: Arc<Notify>,
    /// Whether events can be published now; readiness reads it.
    pub health: BusHealth,
}

impl Default for BusOptions {
    fn default() -> Self {
        Self {
            url: None,
            stream: "ORDO".into(),
            subject_prefix: "ordo".into(),
            partitions: 6,
            nats: NatsSecurity::default(),
            kafka: BTreeMap::new(),
            max_attempts: 8,
            retry_base: Duration::from_millis(200),
            retry_max: Duration::from_secs(60),
            batch_size: 256,
            concurrency: 4,
            gap_timeout: Duration::from_secs(300),
            ack_wait: Duration::from_secs(30),
            outbox_retention: Duration::from_secs(24 * 3600),
            inbox_retention: Duration::from_secs(7 * 24 * 3600),
            stream_max_age: Duration::from_secs(7 * 24 * 3600),
            stream_replicas: 1,
            resend_window: Duration::from_secs(3600),
            lease_ttl: Duration::from_secs(15),
            poll_interval: Duration::from_secs(1),
            faults: Faults::default(),
            progress: Arc::new(Notify::new()),
            health: BusHealth::default(),
        }
    }
}

/// Credentials and TLS for NATS, from the configuration (files, never the secrets
/// themselves).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsSecurity {
    /// An NKey or JWT credentials file (`.creds`), as `nsc` writes them.
    pub credentials_file: Option<PathBuf>,
    /// The certificate authority the server's certificate is checked against (PEM);
    /// setting it requires TLS.
    pub tls_ca_file: Option<PathBuf>,
    /// A client certificate and its key (PEM), for servers that verify clients.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Refuse a connection without TLS (implied by `tls://` and by a CA file).
    pub tls_required: bool,
}

/// Where the bus's events travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend<'a> {
    /// In this process.
    Embedded,
    /// Through NATS JetStream at this URL.
    Nats(&'a str),
    /// Through the Kafka brokers listed (`host:port,host:port`).
    Kafka(&'a str),
}

impl Backend<'_> {
    /// What logs and metrics call it; never the URL, which may hold a password.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Embedded => "embedded",
            Backend::Nats(_) => "nats",
            Backend::Kafka(_) => "kafka",
        }
    }
}

impl BusOptions {
    /// The backend `url` names.
    ///
    /// # Errors
    /// A URL of another scheme, or a `kafka://` URL without a broker.
    pub fn backend(&self) -> Result<Backend<'_>, BusError> {
        let Some(url) = self.url.as_deref() else {
            return Ok(Backend::Embedded);
        };
        if url.starts_with("nats://") || url.starts_with("tls://") {
            return Ok(Backend::Nats(url));
        }
        let Some(brokers) = url.strip_prefix("kafka://") else {
            return Err(BusError::InvalidUrl(
                "a bus URL starts with nats://, tls:// or kafka://".into(),
            ));
        };
        let brokers = brokers.trim_end_matches('/');
        let valid = |broker: &str| {
            broker
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        };
        if brokers.is_empty() || !brokers.split(',').all(valid) {
            return Err(BusError::InvalidUrl(
                "a kafka:// URL lists brokers as host:port, separated by commas".into(),
            ));
        }
        Ok(Backend::Kafka(brokers))
    }

    /// The wait before retry number `attempt` (1 for the first retry): exponential, capped,
    /// with full jitter so that many failing events do not retry in lockstep.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .retry_base
            .saturating_mul(1 << exponent)
            .min(self.retry_max);
        // Half fixed, half random: never a zero wait, never above the ceiling.
        ceiling / 2 + ceiling.mul_f64(fastrand::f64() / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_backend() {
        let with = |url: &str| BusOptions {
            url: Some(url.to_owned()),
            ..BusOptions::default()
        };
        assert_eq!(BusOptions::default().backend().unwrap(), Backend::Embedded);
        let nats = with("nats://u:p@broker:4222");
        assert_eq!(
            nats.backend().unwrap(),
            Backend::Nats("nats://u:p@broker:4222")
        );
        let kafka = with("kafka://a:9092,b:9093/");
        assert_eq!(kafka.backend().unwrap(), Backend::Kafka("a:9092,b:9093"));
        for wrong in [
            "http://broker",
            "kafka://",
            "kafka://a",
            "kafka://a:port",
            "kafka://a:1,",
        ] {
            assert!(with(wrong).backend().is_err(), "{wrong}");
        }
    }

    #[test]
    fn backoff_grows_exponentially_within_the_cap() {
        let options = BusOptions {
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(1),
            ..BusOptions::default()
        };
        for _ in 0..100 {
            let first = options.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = options.backoff(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(options.backoff(30) <= Duration::from_secs(1));
        }
    }
}
