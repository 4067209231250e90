//! Redis, for what the instances of a scale-out platform share (the embedded mode needs
//! none): one multiplexed connection per process, every key under the platform's prefix
//! (several platforms may share one Redis), and the shared rate limiter ([`Gcra`]).
//!
//! A Redis that is away must cost a request nothing but the fallback its caller chooses: a
//! command fails at once while the connection is down, and one task reconnects in the
//! background, rather than every request waiting for a connection timeout of its own.
//! The connection speaks RESP3 so that the client says when it closes: a connection lost
//! while idle is replaced before a request finds it dead.

mod gcra;

pub use gcra::Gcra;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, ClientTlsConfig, IntoConnectionInfo, ProtocolVersion, PushInfo,
    PushKind, RedisError, TlsCertificates,
};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

/// How long connecting, and then each command, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// The pause between attempts to reconnect.
const RECONNECT_EVERY: Duration = Duration::from_millis(250);

/// Why a command did not run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Not connected, or the connection failed during the command.
    #[error("Redis is unreachable: {0}")]
    Unreachable(String),
    /// Redis answered with an error (a wrong type, a script that failed).
    #[error("Redis refused the command: {0}")]
    Refused(String),
}

/// Certificates for a `rediss://` connection beyond the system's trusted authorities.
#[derive(Clone, Default)]
pub struct Tls {
    /// PEM certificates of the authorities that sign the server's; none: the system's.
    pub ca: Option<Vec<u8>>,
    /// A PEM certificate and its key, for a server that checks its clients.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("ca", &self.ca.is_some())
            .field("client", &self.client.is_some())
            .finish()
    }
}

/// A handle on the platform's Redis; clones share the connection.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    prefix: String,
    settings: AsyncConnectionConfig,
    connection: RwLock<Option<MultiplexedConnection>>,
    /// Counts connections made, so that the close of an old one is not taken for the
    /// current one's.
    generation: AtomicU64,
    reconnecting: AtomicBool,
    /// Why the last attempt to connect failed, until one succeeds.
    refused: tokio::sync::watch::Sender<Option<String>>,
    /// Whether connected, for whoever waits for Redis to come back.
    up: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.inner.prefix)
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Connects to `url`, keys under `prefix`. A Redis that cannot be reached yet is not an
    /// error: the handle reconnects in the background, and commands fail until it has.
    ///
    /// # Errors
    /// When `url` is not a Redis URL.
    pub async fn open(url: &str, prefix: &str) -> Result<Self, Error> {
        Self::open_with(url, prefix, Tls::default()).await
    }

    /// As [`Redis::open`], trusting `tls`'s authority and presenting its client
    /// certificate on a `rediss://` URL.
    ///
    /// # Errors
    /// When `url` is not a Redis URL, or `tls` has certificates and `url` is not `rediss://`.
    pub async fn open_with(url: &str, prefix: &str, tls: Tls) -> Result<Self, Error> {
        let refused = |e: RedisError| Error::Refused(e.to_string());
        let info = url.into_connection_info().map_err(refused)?;
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let info = info.set_redis_settings(settings);
        let client = if tls.ca.is_none() && tls.client.is_none() {
            redis::Client::open(info)
        } else if url.starts_with("rediss://") {
            let certificates = TlsCertificates {
                client_tls: tls.client.map(|(client_cert, client_key)| ClientTlsConfig {
                    client_cert,
                    client_key,
                }),
                root_cert: tls.ca,
            };
            redis::Client::build_with_tls(info, certificates)
        } else {
            return Err(Error::Refused(
                "TLS certificates are for a rediss:// URL".into(),
            ));
        }
        .map_err(refused)?;
        let settings = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let redis = Redis {
            inner: Arc::new(Inner {
                client,
                prefix: prefix.to_owned(),
                settings,
                connection: RwLock::new(None),
                generation: AtomicU64::new(0),
                reconnecting: AtomicBool::new(true),
                refused: tokio::sync::watch::Sender::new(None),
                up: tokio::sync::watch::Sender::new(false),
            }),
        };
        match redis.connect().await {
            Ok(()) => redis.inner.reconnecting.store(false, Ordering::Release),
            Err(error) => {
                tracing::warn!(%error, "Redis cannot be reached yet; connecting in the background");
                tokio::spawn(redis.clone().reconnect());
            }
        }
        Ok(redis)
    }

    /// The key `name` under the platform's prefix.
    #[must_use]
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.inner.prefix)
    }

    /// Whether the connection is up, as far as the last command knows.
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.read().is_some()
    }

    /// Why connecting failed last, while not connected: Redis's or TLS's error, without
    /// the URL's password.
    #[must_use]
    pub fn refused(&self) -> Option<String> {
        self.inner.refused.borrow().clone()
    }

    /// Resolves with the reason once an attempt to connect was refused for one that
    /// `matches` (at once when the last one was).
    pub async fn refused_for(&self, matches: impl Fn(&str) -> bool) -> String {
        let mut refused = self.inner.refused.subscribe();
        // The sender lives in `self`: the wait ends only by such a refusal.
        refused
            .wait_for(|r| r.as_deref().is_some_and(&matches))
            .await
            .ok()
            .and_then(|r| r.clone())
            .unwrap_or_default()
    }

    /// Resolves once connected (at once when connected now).
    pub async fn connected(&self) {
        self.until_up(true).await;
    }

    /// Resolves once the connection is lost (at once when not connected now).
    pub async fn disconnected(&self) {
        self.until_up(false).await;
    }

    async fn until_up(&self, wanted: bool) {
        let mut up = self.inner.up.subscribe();
        // The sender lives in `self`: the wait ends only by the state wanted.
        let _ = up.wait_for(|up| *up == wanted).await;
    }

    /// Runs `command` on the connection. A failure of the connection drops it and starts
    /// reconnecting.
    ///
    /// # Errors
    /// `Unreachable` while Redis cannot be reached, `Refused` for Redis's own errors.
    pub async fn run<T, F, Fut>(&self, command: F) -> Result<T, Error>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let Some(connection) = self.read().clone() else {
            self.start_reconnecting();
            return Err(Error::Unreachable("not connected".into()));
        };
        command(connection).await.map_err(|error| {
            if error.is_io_error()
                || error.is_timeout()
                || error.is_connection_dropped()
                || error.is_connection_refusal()
            {
                self.lost(&error);
                Error::Unreachable(error.to_string())
            } else {
                Error::Refused(error.to_string())
            }
        })
    }

    /// Runs one command.
    ///
    /// # Errors
    /// As [`Redis::run`].
    pub async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, Error> {
        self.run(|mut c| async move { command.query_async(&mut c).await })
            .await
    }

    /// Runs the commands of `pipeline` in one round trip; an empty one answers nothing.
    ///
    /// # Errors
    /// As [`Redis::run`].
    pub async fn pipeline<T: redis::FromRedisValue + Default>(
        &self,
        pipeline: redis::Pipeline,
    ) -> Result<T, Error> {
        if pipeline.is_empty() {
            return Ok(T::default());
        }
        self.run(|mut c| async move { pipeline.query_async(&mut c).await })
            .await
    }

    /// Runs a script, loading it into Redis first if Redis does not know it.
    ///
    /// # Errors
    /// As [`Redis::run`].
    pub async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Result<T, Error> {
        self.run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Option<MultiplexedConnection>> {
        self.inner
            .connection
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, connection: Option<MultiplexedConnection>) {
        metrics::gauge!("redis_up").set(if connection.is_some() { 1.0 } else { 0.0 });
        self.inner.up.send_replace(connection.is_some());
        *self
            .inner
            .connection
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = connection;
    }

    fn lost(&self, error: &RedisError) {
        if self.read().is_some() {
            tracing::warn!(%error, "the connection to Redis is lost; reconnecting");
            self.set(None);
        }
        self.start_reconnecting();
    }

    fn start_reconnecting(&self) {
        if !self.inner.reconnecting.swap(true, Ordering::AcqRel) {
            tokio::spawn(self.clone().reconnect());
        }
    }

    async fn connect(&self) -> Result<(), RedisError> {
        let generation = self.inner.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let owner = Arc::downgrade(&self.inner);
        let settings = self
            .inner
            .settings
            .clone()
            .set_push_sender(move |info: PushInfo| {
                if info.kind == PushKind::Disconnection {
                    closed(&owner, generation);
                }
                Ok::<(), std::convert::Infallible>(())
            });
        let connected = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&settings)
            .await;
        self.inner
            .refused
            .send_replace(connected.as_ref().err().map(ToString::to_string));
        self.set(Some(connected?));
        Ok(())
    }

    /// Tries again every `RECONNECT_EVERY` until connected.
    async fn reconnect(self) {
        while self.connect().await.is_err() {
            tokio::time::sleep(RECONNECT_EVERY).await;
        }
        tracing::info!("Redis is reachable again");
        self.inner.reconnecting.store(false, Ordering::Release);
    }
}

/// The client closed connection `generation` of `owner`'s: unless a newer one replaced it,
/// Redis is away until reconnected.
fn closed(owner: &Weak<Inner>, generation: u64) {
    let Some(inner) = owner.upgrade() else {
        return;
    };
    if inner.generation.load(Ordering::Acquire) != generation {
        return;
    }
    let redis = Redis { inner };
    if redis.read().is_some() {
        tracing::warn!("the connection to Redis closed; reconnecting");
        redis.set(None);
    }
    redis.start_reconnecting();
}
