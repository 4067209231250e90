//! Redis, for what the instances of a scale-out platform share (the embedded mode needs
//! none): one multiplexed connection per process, every key under the platform's prefix
//! (several platforms may share one Redis), and the shared rate limiter ([`Gcra`]).
//!
//! A Redis that is away must cost a request nothing but the fallback its caller chooses: a
//! command fails at once while the connection is down, and one task reconnects in the
//! background, rather than every request waiting for a connection timeout of its own.

mod gcra;

pub use gcra::Gcra;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
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
    reconnecting: AtomicBool,
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
        let client = redis::Client::open(url).map_err(|e| Error::Refused(e.to_string()))?;
        let settings = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let redis = Redis {
            inner: Arc::new(Inner {
                client,
                prefix: prefix.to_owned(),
                settings,
                connection: RwLock::new(None),
                reconnecting: AtomicBool::new(true),
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

    /// Resolves once connected (at once when connected now).
    pub async fn connected(&self) {
        let mut up = self.inner.up.subscribe();
        // The sender lives in `self`: the wait ends only by connecting.
        let _ = up.wait_for(|up| *up).await;
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
        let connection = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&self.inner.settings)
            .await?;
        self.set(Some(connection));
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
