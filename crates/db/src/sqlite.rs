//! SQLite through rusqlite: statements run on the calling thread, on a connection the caller
//! holds (the writer, under its lock, or a read connection from the pool), each prepared
//! once per connection and cached. A statement is microseconds of work on pages in memory;
//! what can wait on the disk (the group's `BEGIN`, its `COMMIT` and checkpoint) runs on a
//! blocking thread instead (`group`).

use crate::Error;
use crate::value::{Kind, Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// `temp_store = MEMORY`: a member of a commit group is a savepoint, and the pages it
/// changes are first copied to a sub-journal; SQLite keeps that in a temporary file, whose
/// writes were a tenth of a busy platform's CPU.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                       PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;";

/// Prepared statements kept per connection: a service's distinct statements, with room for
/// the multi-row ones whose size follows the data.
const STATEMENT_CACHE: usize = 256;

/// Opens (creating when absent) the database file at `path` with the platform's settings.
pub(crate) fn open(path: &Path) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch(PRAGMAS)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null(_) => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Bool(b) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*b))),
            Value::Int(n) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*n)),
            Value::Real(x) => ToSqlOutput::Owned(rusqlite::types::Value::Real(*x)),
            Value::Text(text) | Value::Json(text) => {
                ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes()))
            }
            Value::Bytes(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
            Value::Uuid(id) => ToSqlOutput::Owned(rusqlite::types::Value::Text(id.to_string())),
            Value::Instant(at) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(
                ordo_kernel::time::to_millis(*at),
            )),
        })
    }
}

/// Binds `params` to the statement's `$n` placeholders. SQLite numbers parameters in the
/// order they first appear, so `$n` is bound by its name, not its position: a statement may
/// use `$2` before `$1`, or `$1` twice.
fn bind(statement: &mut rusqlite::Statement<'_>, params: &[Value]) -> Result<(), Error> {
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(index);
        let value = params.get(number - 1).ok_or_else(|| Error::Parameters {
            expected: number,
            given: params.len(),
        })?;
        statement.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

pub(crate) fn execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64, Error> {
    let mut statement = conn.prepare_cached(sql)?;
    bind(&mut statement, params)?;
    let changed = statement.raw_execute()?;
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

/// The rows of a query, up to `limit`.
pub(crate) fn query(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    limit: usize,
) -> Result<Vec<Row>, Error> {
    let mut statement = conn.prepare_cached(sql)?;
    bind(&mut statement, params)?;
    let columns: Arc<[String]> = statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let width = columns.len();
    let mut rows = statement.raw_query();
    let mut found = Vec::new();
    while found.len() < limit {
        let Some(row) = rows.next()? else { break };
        let values = (0..width)
            .map(|index| Ok(value(row.get_ref(index)?)))
            .collect::<Result<Vec<_>, rusqlite::Error>>()?;
        found.push(Row::new(columns.clone(), values));
    }
    Ok(found)
}

fn value(column: ValueRef<'_>) -> Value {
    match column {
        ValueRef::Null => Value::Null(Kind::Text),
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
    }
}

/// Whether a SQLite error means the database is busy or locked by another process, or its
/// file cannot be read or written now.
pub(crate) fn is_unavailable(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::DatabaseBusy
                | rusqlite::ErrorCode::DatabaseLocked
                | rusqlite::ErrorCode::SystemIoFailure
                | rusqlite::ErrorCode::DiskFull
                | rusqlite::ErrorCode::CannotOpen
        )
    )
}

pub(crate) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// The read connections of one database: opened as needed, up to a bound, and reused.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
    max: u32,
    acquire_timeout: Duration,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, max: u32, acquire_timeout: Duration) -> Self {
        Readers {
            path,
            idle: Arc::new(Mutex::new(Vec::new())),
            permits: Arc::new(Semaphore::new(max as usize)),
            max,
            acquire_timeout,
        }
    }

    /// A read connection, waiting for one to be free.
    pub(crate) async fn acquire(&self) -> Result<Reader, Error> {
        let permit =
            tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| Error::Busy)?
                .map_err(|_| Error::Closed)?;
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            // Opening reads the schema: off the async threads, as anything touching the disk.
            None => {
                let path = self.path.clone();
                tokio::task::spawn_blocking(move || open(&path))
                    .await
                    .map_err(|_| Error::Closed)??
            }
        };
        Ok(Reader {
            conn: Some(conn),
            idle: self.idle.clone(),
            _permit: permit,
        })
    }

    /// Connections open (idle or in use) and the bound.
    pub(crate) fn sizes(&self) -> (u32, u32, u32) {
        let idle = u32::try_from(self.idle.lock().unwrap_or_else(|e| e.into_inner()).len())
            .unwrap_or(u32::MAX);
        let busy = self
            .max
            .saturating_sub(u32::try_from(self.permits.available_permits()).unwrap_or(u32::MAX));
        (idle, busy, self.max)
    }

    /// Closes the idle connections; those in use close when returned.
    pub(crate) fn close(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A read connection, returned to its pool when dropped.
pub(crate) struct Reader {
    conn: Option<Connection>,
    idle: Arc<Mutex<Vec<Connection>>>,
    _permit: OwnedSemaphorePermit,
}

impl Reader {
    pub(crate) fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
    }
}
