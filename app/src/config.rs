//! The configuration: defaults < `ordo.toml` < `ORDO_*` environment variables < command-line
//! flags, one typed struct validated at start. Errors name the key and where it came from.
//! Nested keys use `__` in the environment: `ORDO_HTTP__BODY_LIMIT_BYTES=1048576`.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ordo_delivery::DeliveryConfig;
use ordo_http::ratelimit::RateLimitConfig;
use ordo_identity::IdentityConfig;
use ordo_inventory::InventoryConfig;
use ordo_kernel::Secret;
use ordo_notifications::SmsConfig;
use ordo_orders::OrdersConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_FILE: &str = "ordo.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the gateway listens.
    pub listen: SocketAddr,
    /// The address people reach the platform at (`https://shop.example`), for links in
    /// emails; unset: `http://` and the address it listens on.
    pub public_url: Option<String>,
    /// SQLite files and the signing keys live here.
    pub data_dir: PathBuf,
    /// `postgres://…` to store every service in PostgreSQL (one schema each); with TLS,
    /// `?sslmode=verify-full&sslrootcert=/path/ca.pem`.
    pub database_url: Option<Secret<String>>,
    /// A file holding `database_url` (a mounted secret); every secret has such a `*_file`
    /// key, set instead of the secret itself.
    pub database_url_file: Option<PathBuf>,
    /// Prefix of the PostgreSQL schemas (`{prefix}_{service}`); empty for bare names.
    pub database_schema_prefix: String,
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before it is answered `503` with
    /// `Retry-After`: the bound on how long a database outage keeps a client waiting.
    pub database_acquire_timeout_ms: u64,
    /// A PostgreSQL connection idle this long is closed: pools hold what load needs, and at
    /// rest little more than their sweeps use.
    pub database_idle_timeout_secs: u64,
    /// `nats://[user:password@]host:port` to relay events through NATS JetStream,
    /// `kafka://host:port[,host:port…]` through Kafka; unset for the in-process bus.
    pub bus_url: Option<Secret<String>>,
    pub bus_url_file: Option<PathBuf>,
    /// `redis://[user:password@]host[:port][/db]` (`rediss://` over TLS) for what the
    /// processes of a scale-out platform share: rate limits, the courier fleet, carts
    /// (`cart.store`). Unset in one process, which keeps them in memory and its database.
    pub redis_url: Option<Secret<String>>,
    pub redis_url_file: Option<PathBuf>,
    pub redis: RedisConfig,
    /// `smtp://[user:password@]host[:port]` to send notifications by email too.
    pub smtp_url: Option<Secret<String>>,
    pub smtp_url_file: Option<PathBuf>,
    /// The sender of those emails.
    pub smtp_from: String,
    /// How text messages are sent: the sandbox (recorded only) or an HTTP gateway.
    pub sms: SmsConfig,
    /// Shared with the payment provider to sign its webhooks; unset: webhooks are refused.
    pub payments_webhook_secret: Option<Secret<String>>,
    pub payments_webhook_secret_file: Option<PathBuf>,
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `ordo_identity=debug,info`; `RUST_LOG` wins.
    pub log_level: String,
    /// Base URL of an OTLP/HTTP collector (`http://127.0.0.1:4318`) to export the spans of
    /// requests and event handlers to, as JSON to `/v1/traces`; unset: nothing is exported.
    pub otlp_endpoint: Option<String>,
    pub http: HttpConfig,
    pub rate_limit: RateLimitConfig,
    pub bus: BusConfig,
    pub identity: IdentityConfig,
    pub inventory: InventoryConfig,
    pub cart: ordo_cart::CartConfig,
    pub orders: OrdersConfig,
    pub delivery: DeliveryConfig,
    pub web: crate::web::WebConfig,
    /// The services this process runs (`ordo serve --service`, or `ORDO_RUN=orders,cart`);
    /// empty: every one, the platform in one process. Any other runs elsewhere and is
    /// called over HTTP.
    #[serde(deserialize_with = "list")]
    pub run: Vec<String>,
    /// Where each service's instances answer, by name: `[services.orders] urls = […]`, or
    /// `ORDO_SERVICES__ORDERS__URLS=http://10.0.0.5:8080,http://10.0.0.6:8080`.
    pub services: BTreeMap<String, ServiceEndpoint>,
    /// How calls to services in other processes behave.
    pub remote: RemoteConfig,
}

/// How the platform uses Redis.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// Put before every key, so that several platforms may share one Redis.
    pub prefix: String,
    /// With a `rediss://` URL: the CA that signed the server's certificate (PEM); unset:
    /// the system's trusted authorities.
    pub tls_ca_file: Option<PathBuf>,
    /// A client certificate and key (PEM), for a Redis that verifies clients.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            prefix: "ordo:".into(),
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
        }
    }
}

impl RedisConfig {
    /// The certificates its TLS files name, read.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn tls(&self) -> anyhow::Result<ordo_redis::Tls> {
        use anyhow::Context as _;
        let read = |path: &PathBuf| {
            std::fs::read(path).with_context(|| format!("redis: read {}", path.display()))
        };
        let client = match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
            _ => None,
        };
        Ok(ordo_redis::Tls {
            ca: self.tls_ca_file.as_ref().map(read).transpose()?,
            client,
        })
    }
}

/// Where one service's instances answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceEndpoint {
    /// Base URLs (`http://host:port`), as a list or comma-separated.
    #[serde(deserialize_with = "list")]
    pub urls: Vec<String>,
    /// Connections of the service's pool in each process that runs it; unset:
    /// `database_max_connections`.
    pub max_connections: Option<u32>,
    /// The service's own `postgres://` URL (its own role, e.g. behind PgBouncer); unset:
    /// `database_url`.
    pub database_url: Option<Secret<String>>,
}

/// The secret in the file at `path` (for `key`), without the line end a file ends with.
fn read_secret(key: &str, path: &Path) -> Result<Secret<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{key}_file: cannot read {}: {e}", path.display()))?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(format!("{key}_file: {} is empty", path.display()));
    }
    Ok(Secret::new(secret.to_owned()))
}

/// A list, or one string of comma-separated items (how an environment variable says it).
fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Items {
        List(Vec<String>),
        Text(String),
    }
    let items = match Items::deserialize(deserializer)? {
        Items::List(items) => items,
        Items::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    items
        .iter()
        .map(|item| {
            item.parse()
                .map_err(|error| serde::de::Error::custom(format!("`{item}`: {error}")))
        })
        .collect()
}

/// Calls to services in other processes: a deadline each, a few tries when safe, and a
/// breaker per callee.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteConfig {
    /// A call's whole time, retries included.
    pub deadline_ms: u64,
    /// Tries of one call at most.
    pub attempts: u32,
    /// Failures in a row that pause calls to a service.
    pub breaker_failures: u32,
    /// How long calls stay paused before one probes again.
    pub breaker_cooldown_ms: u64,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        let defaults = ordo_remote::RemoteSettings::default();
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        RemoteConfig {
            deadline_ms: millis(defaults.deadline),
            attempts: defaults.attempts,
            breaker_failures: defaults.breaker_failures,
            breaker_cooldown_ms: millis(defaults.breaker_cooldown),
        }
    }
}

impl RemoteConfig {
    #[must_use]
    pub fn settings(&self) -> ordo_remote::RemoteSettings {
        ordo_remote::RemoteSettings {
            deadline: std::time::Duration::from_millis(self.deadline_ms),
            attempts: self.attempts,
            breaker_failures: self.breaker_failures,
            breaker_cooldown: std::time::Duration::from_millis(self.breaker_cooldown_ms),
        }
    }
}

/// The event bus: retries, batching, retention and the JetStream names.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// Attempts before an event becomes a dead letter (the first try counts).
    pub max_attempts: u32,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Events handled in one consumer transaction at most.
    pub batch_size: usize,
    /// Subjects one consumer handles at the same time at most.
    pub concurrency: usize,
    pub ack_wait_secs: u64,
    /// Published events stay in the outbox this long, for `ordo bus republish`.
    pub outbox_retention_secs: u64,
    pub inbox_retention_secs: u64,
    pub stream: String,
    pub subject_prefix: String,
    pub stream_max_age_secs: u64,
    /// Copies of the stream in a NATS cluster, or of each topic in a Kafka cluster (1 on a
    /// single server, 3 in a cluster).
    pub stream_replicas: usize,
    /// Partitions of each Kafka topic the bus creates: how many instances of one consumer
    /// can share its events.
    pub partitions: i32,
    /// Credentials and TLS for NATS, beside a user and password in `bus_url`.
    pub nats: BusNatsConfig,
    /// librdkafka properties for every Kafka client, as `[bus.kafka]` keys:
    /// `"security.protocol" = "SASL_SSL"`, `"sasl.mechanism" = "SCRAM-SHA-512"`,
    /// `"sasl.username"`, `"sasl.password"`, `"ssl.ca.location"`…
    pub kafka: BTreeMap<String, Secret<String>>,
    /// When the broker comes back without the stream (its store was lost), events
    /// published this long before are sent again; the inboxes drop what was handled.
    pub resend_window_secs: u64,
    /// Readiness turns false once events have failed to publish for this long.
    pub unready_after_secs: u64,
    /// A consumer holds back an event whose subject's earlier events have not come for
    /// this long, then dead-letters it naming the gap and moves on.
    pub gap_timeout_secs: u64,
}

/// How the platform proves who it is to NATS and encrypts the connection: files only.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusNatsConfig {
    /// An NKey or JWT credentials file (`.creds`).
    pub credentials_file: Option<PathBuf>,
    /// The CA that signed the server's certificate (PEM); TLS is then required.
    pub tls_ca_file: Option<PathBuf>,
    /// A client certificate and key (PEM), for servers that verify clients.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Refuse to talk to NATS without TLS.
    pub tls: bool,
}

impl Default for BusConfig {
    fn default() -> Self {
        let defaults = ordo_bus::BusOptions::default();
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        BusConfig {
            max_attempts: defaults.max_attempts,
            retry_base_ms: millis(defaults.retry_base),
            retry_max_ms: millis(defaults.retry_max),
            batch_size: defaults.batch_size,
            concurrency: defaults.concurrency,
            ack_wait_secs: defaults.ack_wait.as_secs(),
            outbox_retention_secs: defaults.outbox_retention.as_secs(),
            inbox_retention_secs: defaults.inbox_retention.as_secs(),
            stream: defaults.stream,
            subject_prefix: defaults.subject_prefix,
            stream_max_age_secs: defaults.stream_max_age.as_secs(),
            stream_replicas: defaults.stream_replicas,
            partitions: defaults.partitions,
            nats: BusNatsConfig::default(),
            kafka: defaults.kafka,
            resend_window_secs: defaults.resend_window.as_secs(),
            unready_after_secs: 10,
            gap_timeout_secs: defaults.gap_timeout.as_secs(),
        }
    }
}

impl BusConfig {
    fn validate(&self) -> Result<(), String> {
        let ranges: [(&str, u64, u64, u64); 13] = [
            ("bus.max_attempts", u64::from(self.max_attempts), 1, 100),
            ("bus.retry_base_ms", self.retry_base_ms, 1, 3_600_000),
            (
                "bus.retry_max_ms",
                self.retry_max_ms,
                self.retry_base_ms.max(1),
                86_400_000,
            ),
            ("bus.batch_size", self.batch_size as u64, 1, 10_000),
            ("bus.concurrency", self.concurrency as u64, 1, 256),
            ("bus.ack_wait_secs", self.ack_wait_secs, 1, 3600),
            (
                "bus.outbox_retention_secs",
                self.outbox_retention_secs,
                60,
                90 * 86_400,
            ),
            (
                "bus.inbox_retention_secs",
                self.inbox_retention_secs,
                self.outbox_retention_secs,
                365 * 86_400,
            ),
            (
                "bus.resend_window_secs",
                self.resend_window_secs,
                0,
                self.outbox_retention_secs,
            ),
            ("bus.unready_after_secs", self.unready_after_secs, 1, 3600),
            // A predecessor redelivered after the acknowledgement wait must still be waited for.
            (
                "bus.gap_timeout_secs",
                self.gap_timeout_secs,
                self.ack_wait_secs.saturating_mul(2),
                86_400,
            ),
            ("bus.stream_replicas", self.stream_replicas as u64, 1, 5),
            (
                "bus.partitions",
                u64::try_from(self.partitions).unwrap_or(0),
                1,
                10_000,
            ),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(format!("{key}: must be between {min} and {max}"));
            }
        }
        let token = |text: &str| {
            !text.is_empty()
                && text.len() <= 64
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if self.nats.tls_cert_file.is_some() != self.nats.tls_key_file.is_some() {
            return Err(
                "bus.nats.tls_cert_file and bus.nats.tls_key_file: set both, or neither".into(),
            );
        }
        if !token(&self.stream) {
            return Err("bus.stream: use 1-64 letters, digits, `-` and `_`".into());
        }
        if !token(&self.subject_prefix) {
            return Err("bus.subject_prefix: use 1-64 letters, digits, `-` and `_`".into());
        }
        if self.stream_max_age_secs < self.inbox_retention_secs.min(86_400) {
            return Err(
                "bus.stream_max_age_secs: must be at least a day (or the inbox retention)".into(),
            );
        }
        Ok(())
    }

    /// The bus's options, relaying through `url` when given.
    #[must_use]
    pub fn options(&self, url: Option<&Secret<String>>) -> ordo_bus::BusOptions {
        use std::time::Duration;
        ordo_bus::BusOptions {
            url: url.map(|u| u.expose().clone()),
            stream: self.stream.clone(),
            subject_prefix: self.subject_prefix.clone(),
            max_attempts: self.max_attempts,
            retry_base: Duration::from_millis(self.retry_base_ms),
            retry_max: Duration::from_millis(self.retry_max_ms),
            batch_size: self.batch_size,
            concurrency: self.concurrency,
            ack_wait: Duration::from_secs(self.ack_wait_secs),
            gap_timeout: Duration::from_secs(self.gap_timeout_secs),
            outbox_retention: Duration::from_secs(self.outbox_retention_secs),
            inbox_retention: Duration::from_secs(self.inbox_retention_secs),
            stream_max_age: Duration::from_secs(self.stream_max_age_secs),
            resend_window: Duration::from_secs(self.resend_window_secs),
            stream_replicas: self.stream_replicas,
            partitions: self.partitions,
            nats: ordo_bus::NatsSecurity {
                credentials_file: self.nats.credentials_file.clone(),
                tls_ca_file: self.nats.tls_ca_file.clone(),
                tls_cert_file: self.nats.tls_cert_file.clone(),
                tls_key_file: self.nats.tls_key_file.clone(),
                tls_required: self.nats.tls,
            },
            kafka: self.kafka.clone(),
            ..ordo_bus::BusOptions::default()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub body_limit_bytes: usize,
    /// Longer request targets (path and query) get 414.
    pub max_uri_bytes: usize,
    /// Request header fields larger than this in total get 431.
    pub max_header_bytes: usize,
    pub request_timeout_secs: u64,
    pub header_read_timeout_secs: u64,
    /// Readiness fails this long before the listener closes on shutdown.
    pub drain_delay_secs: u64,
    /// In-flight requests get this long to finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Origins allowed to call the API from a browser; empty: no CORS.
    pub cors_origins: Vec<String>,
    /// Set when the platform is reached over HTTPS (directly or through a proxy); enables HSTS.
    pub tls: bool,
    /// Serve HTTPS with this certificate chain and key (PEM files), read again at every
    /// `SIGHUP` without dropping a connection; HSTS follows.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Connections served at once; past it, new ones are answered 503 with `Retry-After`.
    /// Unset: all but a reserve of the open-files limit (which `ordo` raises to the hard
    /// limit at start).
    pub max_connections: Option<usize>,
    /// Whether `/metrics` is public; when false only administrators may read it.
    pub metrics_public: bool,
    /// Live streams (`/notifications/stream`, `/orders/{id}/track`) one user may hold open
    /// at once in this process, all routes together; past it, 429.
    pub streams_per_user: usize,
    /// Proxies whose `X-Forwarded-For` names the client (for rate limits and login
    /// throttling): the gateways in front of services in processes of their own, a load
    /// balancer in front of the gateways. A list, or comma-separated.
    #[serde(deserialize_with = "list")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_url_file: None,
            database_schema_prefix: String::new(),
            database_max_connections: 5,
            database_acquire_timeout_ms: 2000,
            database_idle_timeout_secs: 30,
            bus_url: None,
            bus_url_file: None,
            redis_url: None,
            redis_url_file: None,
            redis: RedisConfig::default(),
            smtp_url: None,
            smtp_url_file: None,
            smtp_from: "Ordo <noreply@ordo.invalid>".into(),
            sms: SmsConfig::default(),
            payments_webhook_secret: None,
            payments_webhook_secret_file: None,
            log_format: LogFormat::Human,
            log_level: "info".into(),
            otlp_endpoint: None,
            http: HttpConfig::default(),
            rate_limit: RateLimitConfig::default(),
            bus: BusConfig::default(),
            identity: IdentityConfig::default(),
            inventory: InventoryConfig::default(),
            cart: ordo_cart::CartConfig::default(),
            orders: OrdersConfig::default(),
            delivery: DeliveryConfig::default(),
            web: crate::web::WebConfig::default(),
            run: Vec::new(),
            services: BTreeMap::new(),
            remote: RemoteConfig::default(),
        }
    }
}

impl HttpConfig {
    /// Whether clients reach the platform over HTTPS: served here, or by a proxy in front.
    #[must_use]
    pub fn https(&self) -> bool {
        self.tls || self.tls_cert_file.is_some()
    }

    /// How to serve: timeouts, and the certificate when HTTPS is served here.
    ///
    /// # Errors
    /// The certificate or its key cannot be read.
    pub fn serve_options(&self) -> anyhow::Result<ordo_http::serve::ServeOptions> {
        use anyhow::Context as _;
        let tls = match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => Some(
                ordo_http::tls::Tls::load(cert, key)
                    .context("http.tls_cert_file and http.tls_key_file")?,
            ),
            _ => None,
        };
        Ok(ordo_http::serve::ServeOptions {
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout_secs),
            drain_delay: std::time::Duration::from_secs(self.drain_delay_secs),
            grace: std::time::Duration::from_secs(self.shutdown_grace_secs),
            tls,
            max_connections: ordo_http::overload::connection_cap(
                ordo_http::overload::open_files_limit(),
                self.max_connections,
            ),
        })
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit_bytes: 256 * 1024,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 16 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            drain_delay_secs: 0,
            shutdown_grace_secs: 30,
            cors_origins: Vec::new(),
            tls: false,
            tls_cert_file: None,
            tls_key_file: None,
            max_connections: None,
            metrics_public: true,
            streams_per_user: 20,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Source(Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
}

/// Values given on the command line; they override every other source.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
    /// `--service`: the services this process runs.
    pub run: Vec<String>,
}

impl Config {
    /// Reads and validates the configuration. `file` is required to exist when given;
    /// otherwise `ordo.toml` is read if present.
    ///
    /// # Errors
    /// A message naming the bad key and its source.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file(DEFAULT_FILE)),
        }
        // Not configuration: the file's path, and the passphrase only `ordo backup` and
        // `ordo restore` read.
        let env = Env::prefixed("ORDO_")
            .split("__")
            .filter(|key| key != "config" && key != "backup_passphrase");
        let mut config: Config = figment
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Source(Box::new(e)))?;
        if let Some(dir) = &overrides.data_dir {
            config.data_dir.clone_from(dir);
        }
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        if let Some(format) = overrides.log_format {
            config.log_format = format;
        }
        if !overrides.run.is_empty() {
            config.run.clone_from(&overrides.run);
        }
        config.read_secret_files().map_err(ConfigError::Invalid)?;
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    /// Reads every secret given as a file (`*_file` keys, and `*_file` keys of
    /// `[bus.kafka]`) into its key.
    ///
    /// # Errors
    /// A secret given both ways, or a file that cannot be read.
    pub fn read_secret_files(&mut self) -> Result<(), String> {
        let secrets = [
            (
                "database_url",
                &mut self.database_url,
                &self.database_url_file,
            ),
            ("bus_url", &mut self.bus_url, &self.bus_url_file),
            ("redis_url", &mut self.redis_url, &self.redis_url_file),
            ("smtp_url", &mut self.smtp_url, &self.smtp_url_file),
            (
                "payments_webhook_secret",
                &mut self.payments_webhook_secret,
                &self.payments_webhook_secret_file,
            ),
        ];
        for (key, secret, file) in secrets {
            if let Some(path) = file {
                if secret.is_some() {
                    return Err(format!("{key} and {key}_file: set one, not both"));
                }
                *secret = Some(read_secret(key, path)?);
            }
        }
        let files: Vec<(String, String)> = self
            .bus
            .kafka
            .iter()
            .filter_map(|(key, path)| {
                key.strip_suffix("_file")
                    .map(|property| (property.to_owned(), path.expose().clone()))
            })
            .collect();
        for (property, path) in files {
            let key = format!("bus.kafka.\"{property}\"");
            if self.bus.kafka.contains_key(&property) {
                return Err(format!("{key} and its _file: set one, not both"));
            }
            let secret = read_secret(&key, Path::new(&path))?;
            self.bus.kafka.remove(&format!("{property}_file"));
            self.bus.kafka.insert(property, secret);
        }
        Ok(())
    }

    /// # Errors
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.database_url {
            let url = url.expose();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(
                    "database_url: must be a postgres:// URL (leave unset for SQLite)".into(),
                );
            }
        }
        if !self
            .database_schema_prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(
                "database_schema_prefix: use lowercase letters, digits and underscores".into(),
            );
        }
        if !(1..=256).contains(&self.database_max_connections) {
            return Err("database_max_connections: must be between 1 and 256".into());
        }
        if !(5..=3600).contains(&self.database_idle_timeout_secs) {
            return Err("database_idle_timeout_secs: must be between 5 and 3600".into());
        }
        if !(100..=60_000).contains(&self.database_acquire_timeout_ms) {
            return Err("database_acquire_timeout_ms: must be between 100 and 60000".into());
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.http.body_limit_bytes) {
            return Err("http.body_limit_bytes: must be between 1024 and 67108864".into());
        }
        // Below the HTTP parser's own ceilings (a 64 KiB target, about 400 KiB of head), so
        // that clients over the limits get a problem document rather than a bare status.
        if !(1024..=65_534).contains(&self.http.max_uri_bytes) {
            return Err("http.max_uri_bytes: must be between 1024 and 65534".into());
        }
        if !(1024..=256 * 1024).contains(&self.http.max_header_bytes) {
            return Err("http.max_header_bytes: must be between 1024 and 262144".into());
        }
        for (key, value) in [
            ("http.request_timeout_secs", self.http.request_timeout_secs),
            (
                "http.header_read_timeout_secs",
                self.http.header_read_timeout_secs,
            ),
            ("http.shutdown_grace_secs", self.http.shutdown_grace_secs),
        ] {
            if !(1..=3600).contains(&value) {
                return Err(format!("{key}: must be between 1 and 3600"));
            }
        }
        if self.http.tls_cert_file.is_some() != self.http.tls_key_file.is_some() {
            return Err("http.tls_cert_file and http.tls_key_file: set both, or neither".into());
        }
        if !(1..=1000).contains(&self.http.streams_per_user) {
            return Err("http.streams_per_user: must be between 1 and 1000".into());
        }
        if self.http.max_connections == Some(0) {
            return Err(
                "http.max_connections: must be at least 1 (unset: from the open-files limit)"
                    .into(),
            );
        }
        for origin in &self.http.cors_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || axum::http::HeaderValue::from_str(origin).is_err()
            {
                return Err(format!(
                    "http.cors_origins: `{origin}` is not an origin like https://shop.example"
                ));
            }
        }
        for role in ordo_kernel::Role::ALL {
            self.rate_limit
                .quota(role)
                .validate()
                .map_err(|e| format!("rate_limit.{role}: {e}"))?;
        }
        self.rate_limit
            .anonymous
            .validate()
            .map_err(|e| format!("rate_limit.anonymous: {e}"))?;
        if !self.run.is_empty() && (self.database_url.is_none() || self.bus_url.is_none()) {
            return Err(
                "run: services in processes of their own share PostgreSQL and the \
                 broker; set database_url and bus_url (ORDO_DATABASE_URL, ORDO_BUS_URL)"
                    .into(),
            );
        }
        if self.run.iter().any(|name| name == "delivery") && self.redis_url.is_none() {
            return Err(
                "run: delivery in processes of its own dispatches from one fleet in Redis; \
                 set redis_url (ORDO_REDIS_URL)"
                    .into(),
            );
        }
        let redis_tls = self.redis.tls_ca_file.is_some() || self.redis.tls_cert_file.is_some();
        match &self.redis_url {
            Some(url)
                if !url.expose().starts_with("redis://")
                    && !url.expose().starts_with("rediss://") =>
            {
                return Err(
                    "redis_url: must be a redis:// or rediss:// URL (leave unset in one process)"
                        .into(),
                );
            }
            Some(url) if redis_tls && !url.expose().starts_with("rediss://") => {
                return Err(
                    "redis.tls_ca_file and redis.tls_cert_file need a rediss:// URL".into(),
                );
            }
            _ => {}
        }
        if self.redis.tls_cert_file.is_some() != self.redis.tls_key_file.is_some() {
            return Err("redis.tls_cert_file and redis.tls_key_file: set both, or neither".into());
        }
        if self.redis.prefix.len() > 64 || self.redis.prefix.contains(char::is_whitespace) {
            return Err("redis.prefix: at most 64 characters, no spaces".into());
        }
        if !(100..=600_000).contains(&self.remote.deadline_ms) {
            return Err("remote.deadline_ms: must be between 100 and 600000".into());
        }
        if !(1..=10).contains(&self.remote.attempts) {
            return Err("remote.attempts: must be between 1 and 10".into());
        }
        if self.remote.breaker_failures == 0 {
            return Err("remote.breaker_failures: must be at least 1".into());
        }
        for (name, endpoint) in &self.services {
            if endpoint.database_url.as_ref().is_some_and(|url| {
                let url = url.expose();
                self.database_url.is_none()
                    || !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
            }) {
                return Err(format!(
                    "services.{name}.database_url: must be a postgres:// URL, beside database_url"
                ));
            }
            if endpoint
                .max_connections
                .is_some_and(|n| !(1..=256).contains(&n))
            {
                return Err(format!(
                    "services.{name}.max_connections: must be between 1 and 256"
                ));
            }
            if let Some(url) = endpoint
                .urls
                .iter()
                .find(|url| !(url.starts_with("http://") || url.starts_with("https://")))
            {
                return Err(format!(
                    "services.{name}.urls: `{url}` is not a base URL like http://10.0.0.5:8080"
                ));
            }
        }
        self.bus
            .options(self.bus_url.as_ref())
            .backend()
            .map_err(|error| format!("bus_url: {error} (leave it unset for the in-process bus)"))?;
        self.bus.validate()?;
        if self
            .payments_webhook_secret
            .as_ref()
            .is_some_and(|secret| secret.expose().len() < 16)
        {
            return Err("payments_webhook_secret: must be at least 16 characters".into());
        }
        if let Some(url) = &self.smtp_url
            && !url.expose().starts_with("smtp://")
        {
            return Err("smtp_url: must be an smtp:// URL".into());
        }
        if let Some(url) = &self.public_url
            && !((url.starts_with("http://") || url.starts_with("https://"))
                && url.len() > "https://".len()
                && !url.contains(['?', '#', ' ']))
        {
            return Err(
                "public_url: must be an http:// or https:// URL without query or fragment, like https://shop.example"
                    .into(),
            );
        }
        self.sms.validate()?;
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .map_err(|e| format!("log_level: {e}"))?;
        if let Some(endpoint) = &self.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err("otlp_endpoint: must be an http:// or https:// URL".into());
        }
        self.identity.validate()?;
        self.inventory.validate()?;
        self.cart.validate()?;
        if self.cart.store == ordo_cart::CartStore::Redis && self.redis_url.is_none() {
            return Err("cart.store: carts in Redis need redis_url (ORDO_REDIS_URL)".into());
        }
        self.orders.validate()?;
        self.web.validate()?;
        self.delivery.validate()
    }

    /// The address links in messages lead to: `public_url`, or the one the gateway
    /// listens on.
    #[must_use]
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// Where the search index lives.
    #[must_use]
    pub fn search_dir(&self) -> PathBuf {
        self.data_dir.join("search")
    }

    /// The signing-key file: configured, or under the data dir.
    #[must_use]
    pub fn keys_file(&self) -> PathBuf {
        self.identity
            .keys_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys").join("jwt-keys.json"))
    }

    #[must_use]
    pub fn db_options(&self) -> ordo_db::DbOptions {
        ordo_db::DbOptions {
            data_dir: self.data_dir.clone(),
            url: self.database_url.clone(),
            schema_prefix: self.database_schema_prefix.clone(),
            max_connections: self.database_max_connections,
            acquire_timeout: std::time::Duration::from_millis(self.database_acquire_timeout_ms),
            idle_timeout: std::time::Duration::from_secs(self.database_idle_timeout_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lead_to_the_public_url_or_the_listening_address() {
        let mut config = Config::default();
        assert_eq!(config.public_url(), "http://127.0.0.1:8080");
        config.public_url = Some("https://shop.example".into());
        config.validate().unwrap();
        assert_eq!(config.public_url(), "https://shop.example");
        for bad in [
            "shop.example",
            "https://",
            "https://shop.example/#/x",
            "ftp://shop.example",
        ] {
            config.public_url = Some(bad.into());
            let error = config.validate().unwrap_err();
            assert!(error.starts_with("public_url"), "{bad}: {error}");
        }
    }

    #[test]
    fn defaults_are_valid_and_hide_secrets() {
        let mut config = Config::default();
        config.validate().unwrap();
        config.database_url = Some(Secret::new("postgres://u:hunter2@db/ordo".into()));
        config.bus_url = Some(Secret::new("nats://u:hunter2@broker:4222".into()));
        config.redis_url = Some(Secret::new("redis://u:hunter2@cache:6379".into()));
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&config).unwrap().contains("hunter2"));
    }

    #[test]
    fn secrets_are_read_from_files_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let secret = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        let bus = secret("bus", "nats://ordo:hunter2@broker:4222\n");
        let kafka = secret("kafka", "kafka-hunter3");
        let path = dir.path().join("ordo.toml");
        std::fs::write(
            &path,
            format!(
                "bus_url_file = \"{bus}\"\n[bus.kafka]\n\"sasl.username\" = \"ordo\"\n\
                 \"sasl.password_file\" = \"{kafka}\"\n"
            ),
        )
        .unwrap();
        let config = Config::load(Some(&path), &Overrides::default()).unwrap();
        assert_eq!(
            config.bus_url.as_ref().unwrap().expose(),
            "nats://ordo:hunter2@broker:4222",
            "without the file's line end"
        );
        assert_eq!(config.bus.kafka["sasl.password"].expose(), "kafka-hunter3");
        assert!(!config.bus.kafka.contains_key("sasl.password_file"));
        let shown = serde_json::to_string(&config).unwrap();
        assert!(!shown.contains("hunter"), "{shown}");

        std::fs::write(
            &path,
            format!("bus_url = \"nats://broker:4222\"\nbus_url_file = \"{bus}\"\n"),
        )
        .unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("bus_url and bus_url_file"), "{error}");
        std::fs::write(&path, "redis_url_file = \"/nonexistent/secret\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("redis_url_file"), "{error}");
    }

    #[test]
    fn where_services_run_is_read_from_a_list_or_one_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ordo.toml");
        std::fs::write(
            &path,
            "database_url = \"postgres://db/ordo\"\nbus_url = \"nats://broker:4222\"\n\
             [services.catalog]\nurls = [\"http://10.0.0.5:8080\"]\n\
             [services.orders]\nurls = \"http://10.0.0.6:8080, http://10.0.0.7:8080\"\n\
             [http]\ntrusted_proxies = \"10.0.0.2, ::1\"\n",
        )
        .unwrap();
        let run = Overrides {
            run: vec!["orders".into()],
            ..Overrides::default()
        };
        let config = Config::load(Some(&path), &run).unwrap();
        assert_eq!(config.run, ["orders"]);
        assert_eq!(config.services["catalog"].urls, ["http://10.0.0.5:8080"]);
        assert_eq!(
            config.services["orders"].urls,
            ["http://10.0.0.6:8080", "http://10.0.0.7:8080"]
        );
        let proxies: Vec<std::net::IpAddr> =
            vec!["10.0.0.2".parse().unwrap(), "::1".parse().unwrap()];
        assert_eq!(config.http.trusted_proxies, proxies);

        std::fs::write(&path, "[services.orders]\nurls = \"10.0.0.6\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("services.orders.urls"), "{error}");
        std::fs::write(&path, "").unwrap();
        let error = Config::load(Some(&path), &run).unwrap_err().to_string();
        assert!(error.contains("database_url and bus_url"), "{error}");
        std::fs::write(
            &path,
            "database_url = \"postgres://db/ordo\"\nbus_url = \"nats://broker:4222\"\n",
        )
        .unwrap();
        let delivery = Overrides {
            run: vec!["delivery".into()],
            ..Overrides::default()
        };
        let error = Config::load(Some(&path), &delivery)
            .unwrap_err()
            .to_string();
        assert!(error.contains("ORDO_REDIS_URL"), "{error}");
    }

    #[test]
    fn a_bad_file_value_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ordo.toml");
        std::fs::write(&path, "[http]\nbody_limit_bytes = \"lots\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("body_limit_bytes"), "{error}");

        std::fs::write(&path, "[http]\nbody_limit_bytes = 10\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("http.body_limit_bytes"), "{error}");

        std::fs::write(&path, "[http]\nmax_header_bytes = 1048576\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("http.max_header_bytes"), "{error}");

        std::fs::write(&path, "[http]\nstreams_per_user = 0\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("http.streams_per_user"), "{error}");

        std::fs::write(&path, "[bus]\nmax_attempts = 0\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("bus.max_attempts"), "{error}");

        std::fs::write(&path, "bus_url = \"http://broker\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("bus_url"), "{error}");

        std::fs::write(
            &path,
            "[services.orders]\ndatabase_url = \"postgres://orders@db/ordo\"\n",
        )
        .unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("services.orders.database_url"), "{error}");

        std::fs::write(&path, "[http]\ntls_cert_file = \"cert.pem\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("http.tls_key_file"), "{error}");

        std::fs::write(&path, "redis_url = \"http://cache\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("redis_url"), "{error}");

        std::fs::write(
            &path,
            "redis_url = \"redis://cache\"\n[redis]\ntls_ca_file = \"ca.pem\"\n",
        )
        .unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("rediss://"), "{error}");

        std::fs::write(
            &path,
            "redis_url = \"rediss://cache\"\n[redis]\ntls_cert_file = \"c.pem\"\n",
        )
        .unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("redis.tls_key_file"), "{error}");

        std::fs::write(&path, "colour = \"blue\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("colour"), "{error}");
    }
}
