//! The database handle every service uses: a SQLite file under the data dir, or the
//! service's own schema in PostgreSQL when a `postgres://` URL is configured. One store
//! implementation, written in portable SQL with `$1` placeholders and typed parameters and
//! rows (`value`), runs on either: SQLite through rusqlite (`sqlite`), PostgreSQL through
//! sqlx's own driver, with PostgreSQL's types (`uuid`, `timestamptz`, `jsonb`, `boolean`).
//!
//! SQLite runs in WAL mode with `synchronous=FULL`, foreign keys on and a busy timeout,
//! and has exactly one writer connection: SQLite serialises writers anyway, and a single
//! writer means a transaction that reads before it writes can never fail to upgrade its
//! lock. Its transactions are committed in groups (`group`): one fsync for all those
//! waiting at once. Reads use a separate pool of connections and run concurrently.

mod batch;
mod error;
mod exec;
mod group;
mod migrate;
mod servers;
pub mod sql;
mod sqlite;
mod status;
mod value;

pub use batch::{Batch, Changed, Counted};
pub use error::Error;
pub use exec::Executor;
pub use migrate::{Migration, MigrationError};
pub use ordo_db_derive::FromRow;
pub use status::StatusMove;
pub use value::{Decode, Encode, FromRow, Json, Kind, Row, Value};

use ordo_kernel::Secret;
use sqlx::Executor as _;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A write transaction: on PostgreSQL a connection's own; on SQLite a savepoint in the
/// writer's current commit group. Run statements on `&mut *tx`; it is rolled back unless
/// committed.
pub struct Tx {
    inner: TxInner,
    /// Drawn at random when the transaction began (see [`Tx::shard`]).
    drawn: u64,
}

enum TxInner {
    /// PostgreSQL: a connection's own transaction.
    Own(sqlx::Transaction<'static, sqlx::Postgres>),
    /// SQLite: a savepoint in the writer's commit group.
    Grouped(group::Member),
    /// PostgreSQL, reads outside a transaction.
    Read(sqlx::pool::PoolConnection<sqlx::Postgres>),
    /// SQLite, reads outside a transaction.
    SqliteRead(sqlite::Reader),
}

impl Tx {
    fn new(inner: TxInner) -> Self {
        Tx {
            inner,
            drawn: fastrand::u64(..),
        }
    }

    /// One of `shards` (0 to `shards - 1`), drawn when the transaction began and the same for
    /// all of its statements: for a counter kept in several rows, so that a transaction adding
    /// to it many times (a consumer's batch) locks one of its rows, and concurrent
    /// transactions most likely others.
    #[must_use]
    pub fn shard(&self, shards: u64) -> i64 {
        i64::try_from(self.drawn % shards.max(1)).unwrap_or(0)
    }

    /// The database the transaction runs on.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            TxInner::Own(_) | TxInner::Read(_) => Dialect::Postgres,
            TxInner::Grouped(_) | TxInner::SqliteRead(_) => Dialect::Sqlite,
        }
    }

    /// Makes the transaction's writes durable and visible.
    ///
    /// # Errors
    /// The commit failed: nothing it wrote remains.
    pub async fn commit(self) -> Result<(), Error> {
        match self.inner {
            TxInner::Own(tx) => tx.commit().await?,
            TxInner::Grouped(member) => member.commit().await?,
            TxInner::Read(_) | TxInner::SqliteRead(_) => (),
        }
        Ok(())
    }

    /// Undoes the transaction's writes.
    ///
    /// # Errors
    /// The database failed.
    pub async fn rollback(self) -> Result<(), Error> {
        match self.inner {
            TxInner::Own(tx) => tx.rollback().await?,
            TxInner::Grouped(member) => member.rollback(),
            TxInner::Read(_) | TxInner::SqliteRead(_) => (),
        }
        Ok(())
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner {
            TxInner::Own(_) => "Tx(own)",
            TxInner::Grouped(_) => "Tx(grouped)",
            TxInner::Read(_) | TxInner::SqliteRead(_) => "Tx(read)",
        })
    }
}

/// Read connections a SQLite database has at least: they are file handles in the process,
/// not a server's connections, so the budget of PostgreSQL's does not bound them.
pub const SQLITE_READERS: u32 = 8;

/// How to reach the databases; one `DbOptions` serves every service.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Where SQLite files live when no URL is given.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; `None` for embedded SQLite.
    pub url: Option<Secret<String>>,
    /// Prepended to each service's schema name in PostgreSQL (`{prefix}_{service}`), so
    /// several installations or tests can share one database.
    pub schema_prefix: String,
    /// Connections per service pool (PostgreSQL) or per read pool (SQLite, at least
    /// [`SQLITE_READERS`]).
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL connections idle this long are closed.
    pub idle_timeout: Duration,
}

/// Commits so far: `transactions` made durable by `groups` commits; how long the writer
/// was held by transactions, and by the commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitGroups {
    pub groups: u64,
    pub transactions: u64,
    pub held: Duration,
    pub committing: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme (expected postgres://)")]
    UnsupportedUrl,
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("invalid schema name `{0}`: use lowercase letters, digits and underscores")]
    InvalidSchema(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the {service} database: {source}")]
    Connect { service: String, source: Error },
    #[error(transparent)]
    Migration(#[from] MigrationError),
}

impl DbError {
    /// Whether the database could not be reached or could not take the work (an outage,
    /// see [`is_unavailable`]): opening it again later may succeed.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Connect { source, .. }
            | DbError::Migration(
                MigrationError::Failed { source, .. } | MigrationError::History { source, .. },
            ) => source.is_unavailable(),
            _ => false,
        }
    }
}

/// One service's database.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    service: String,
    backend: Backend,
    /// With a URL naming several servers: the one in use (`host:port`).
    server: Option<tokio::sync::watch::Receiver<String>>,
}

enum Backend {
    /// The one writer connection, committed in groups, and the read connections.
    Sqlite {
        writer: group::Writer,
        readers: sqlite::Readers,
    },
    /// One pool for writes and reads; the server groups commits itself.
    Postgres(PgPool),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("service", &self.inner.service)
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating when absent) the database of `service`.
    ///
    /// # Errors
    /// When the URL is not supported, the data dir cannot be created or the server refuses.
    pub async fn connect(options: &DbOptions, service: &str) -> Result<Db, DbError> {
        match &options.url {
            None => Self::connect_sqlite(options, service).await,
            Some(url) if is_postgres(url.expose()) => {
                Self::connect_postgres(options, url.expose(), service).await
            }
            Some(_) => Err(DbError::UnsupportedUrl),
        }
    }

    async fn connect_sqlite(options: &DbOptions, service: &str) -> Result<Db, DbError> {
        std::fs::create_dir_all(&options.data_dir).map_err(|source| DbError::DataDir {
            path: options.data_dir.clone(),
            source,
        })?;
        let path = options.data_dir.join(format!("{service}.db"));
        let opening = path.clone();
        let writer = tokio::task::spawn_blocking(move || sqlite::open(&opening))
            .await
            .map_err(|_| Error::Closed)
            .and_then(|opened| opened)
            .map_err(|source| DbError::Connect {
                service: service.to_owned(),
                source,
            })?;
        let readers = sqlite::Readers::new(
            path,
            options.max_connections.max(SQLITE_READERS),
            options.acquire_timeout,
        );
        let writer = group::Writer::start(writer, service, options.acquire_timeout);
        Ok(Db::from_parts(
            service,
            Backend::Sqlite { writer, readers },
            None,
        ))
    }

    async fn connect_postgres(
        options: &DbOptions,
        url: &str,
        service: &str,
    ) -> Result<Db, DbError> {
        let schema = if options.schema_prefix.is_empty() {
            service.to_owned()
        } else {
            format!("{}_{service}", options.schema_prefix)
        };
        if schema.is_empty()
            || !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(DbError::InvalidSchema(schema));
        }
        let connect_error = |source: sqlx::Error| DbError::Connect {
            service: service.to_owned(),
            source: source.into(),
        };
        let set_path = format!("SET search_path TO {schema}");
        let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
        // Operators see whose connections they are (`pg_stat_activity`).
        let separator = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{separator}application_name=ordo_{service}");
        let servers = servers::Servers::parse(&url)?;
        let current = if servers.is_plain() {
            0
        } else {
            servers.find().await.map_err(connect_error)?
        };
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(0)
            .idle_timeout(Some(options.idle_timeout))
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _| {
                let set_path = set_path.clone();
                Box::pin(async move { conn.execute(set_path.as_str()).await.map(|_| ()) })
            })
            .connect(servers.url(current))
            .await
            .map_err(connect_error)?;
        // Concurrent starts may race to create the schema; IF NOT EXISTS is not atomic in
        // PostgreSQL, so a unique violation here means another instance won.
        if let Err(error) = pool.execute(create.as_str()).await
            && !is_unique_violation(&error)
        {
            return Err(connect_error(error));
        }
        let (moved, server) = (!servers.is_plain())
            .then(|| tokio::sync::watch::channel(servers.name(current).to_owned()))
            .unzip();
        let db = Db::from_parts(service, Backend::Postgres(pool), server);
        if let Some(moved) = moved {
            let inner = Arc::downgrade(&db.inner);
            servers.watch(service.to_owned(), current, moved, move || {
                inner.upgrade().and_then(|inner| match &inner.backend {
                    Backend::Postgres(pool) => Some(pool.clone()),
                    Backend::Sqlite { .. } => None,
                })
            });
        }
        Ok(db)
    }

    fn from_parts(
        service: &str,
        backend: Backend,
        server: Option<tokio::sync::watch::Receiver<String>>,
    ) -> Db {
        Db {
            inner: Arc::new(Inner {
                service: service.to_owned(),
                backend,
                server,
            }),
        }
    }

    /// With a URL naming several servers, the one the pool uses now (`host:port`), told
    /// again each time the pool moves; `None` for SQLite or a URL naming one server.
    #[must_use]
    pub fn server(&self) -> Option<tokio::sync::watch::Receiver<String>> {
        self.inner.server.clone()
    }

    #[must_use]
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    #[must_use]
    pub fn dialect(&self) -> Dialect {
        match self.inner.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Starts a write transaction.
    ///
    /// # Errors
    /// When no connection can be acquired or `BEGIN` fails.
    pub async fn begin(&self) -> Result<Tx, Error> {
        let inner = match &self.inner.backend {
            Backend::Postgres(pool) => TxInner::Own(pool.begin().await?),
            Backend::Sqlite { writer, .. } => TxInner::Grouped(writer.begin().await?),
        };
        Ok(Tx::new(inner))
    }

    async fn read_only(&self) -> Result<Tx, Error> {
        let inner = match &self.inner.backend {
            Backend::Postgres(pool) => TxInner::Read(pool.acquire().await?),
            Backend::Sqlite { readers, .. } => TxInner::SqliteRead(readers.acquire().await?),
        };
        Ok(Tx::new(inner))
    }

    /// How SQLite's writer has grouped its commits so far; `None` on PostgreSQL.
    #[must_use]
    pub fn commit_groups(&self) -> Option<CommitGroups> {
        match &self.inner.backend {
            Backend::Postgres(_) => None,
            Backend::Sqlite { writer, .. } => {
                let load =
                    |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
                let counts = &writer.counts;
                Some(CommitGroups {
                    groups: load(&counts.groups),
                    transactions: load(&counts.transactions),
                    held: Duration::from_nanos(load(&counts.held_ns)),
                    committing: Duration::from_nanos(load(&counts.committing_ns)),
                })
            }
        }
    }

    /// Whether the database answers; used by `/readyz`.
    pub async fn ping(&self) -> bool {
        self.fetch_one::<(i64,)>("SELECT 1", &[]).await.is_ok()
    }

    /// Applies the migrations not applied yet, in order.
    ///
    /// # Errors
    /// When a migration fails or an applied one was edited since.
    pub async fn migrate(&self, migrations: &[Migration]) -> Result<(), DbError> {
        migrate::run(self, "ordo_migrations", migrations)
            .await
            .map_err(DbError::from)
    }

    /// Applies a platform crate's migrations (the bus's outbox and inbox tables live in
    /// every service's database), versioned apart from the service's own in
    /// `ordo_{component}_migrations`.
    pub async fn migrate_component(
        &self,
        component: &'static str,
        migrations: &[Migration],
    ) -> Result<(), DbError> {
        let history = format!("ordo_{component}_migrations");
        migrate::run(self, &history, migrations)
            .await
            .map_err(DbError::from)
    }

    /// Publishes pool gauges (`db_pool_connections{service, pool, state}` and
    /// `db_pool_max_connections{service, pool}`); SQLite's writer
    /// is measured by its commit groups instead (`db_commit_group_size`).
    pub fn record_pool_metrics(&self) {
        let (name, idle, busy, max) = match &self.inner.backend {
            Backend::Sqlite { readers, .. } => {
                let (idle, busy, max) = readers.sizes();
                ("reader", idle, busy, max)
            }
            Backend::Postgres(pool) => {
                let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
                let busy = pool.size().saturating_sub(idle);
                ("shared", idle, busy, pool.options().get_max_connections())
            }
        };
        let service = self.inner.service.clone();
        metrics::gauge!("db_pool_max_connections", "service" => service.clone(), "pool" => name)
            .set(f64::from(max));
        for (state, count) in [("idle", idle), ("busy", busy)] {
            metrics::gauge!(
                "db_pool_connections",
                "service" => service.clone(),
                "pool" => name,
                "state" => state
            )
            .set(f64::from(count));
        }
    }

    /// Closes the pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        match &self.inner.backend {
            Backend::Postgres(pool) => pool.close().await,
            Backend::Sqlite { writer, readers } => {
                writer.close().await;
                readers.close();
            }
        }
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Whether the error means the database cannot be reached or cannot take the work now
/// (no connection in time, the connection broke, the server is shutting down or full): a
/// retry later may succeed, and the request deserves a `503`, not a `500`.
#[must_use]
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => {
            let Some(code) = error.code() else {
                return false;
            };
            // Connection exceptions, too many connections, the server shutting down or
            // starting up; a write sent to a server that has become a standby.
            code.starts_with("08")
                || matches!(&*code, "53300" | "57P01" | "57P02" | "57P03" | "25006")
        }
        // A connection closed before the server answered the TLS request (a proxy or
        // balancer that accepts and drops it): sqlx reads the end as an answer of 0x00.
        sqlx::Error::Protocol(message) => {
            message.starts_with("unexpected response from SSLRequest")
        }
        _ => false,
    }
}

/// Whether `error` or one of its causes is a database outage (`is_unavailable`).
#[must_use]
pub fn caused_by_unavailable(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error
            .downcast_ref::<sqlx::Error>()
            .is_some_and(is_unavailable)
            || error
                .downcast_ref::<Error>()
                .is_some_and(Error::is_unavailable)
        {
            return true;
        }
        next = error.source();
    }
    false
}

/// Whether the error is a unique-key violation (a duplicate).
#[must_use]
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(sqlx::error::DatabaseError::is_unique_violation)
}
