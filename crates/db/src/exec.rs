//! Statements, typed: parameters are [`Value`]s, rows are read into [`FromRow`] types. They
//! run on a transaction ([`Tx`]) or on the database itself ([`Db`]); store functions that
//! serve both take an [`Executor`].

use crate::value::{Kind, Row, Value};
use crate::{Db, Error, FromRow, Tx, TxInner, sqlite};
use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnection, PgRow, PgTypeInfo, PgValueFormat, PgValueRef,
    Postgres,
};
use sqlx::query::Query;
use sqlx::{Column, Executor as _, Row as _, TypeInfo, ValueRef};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// `jsonb`'s type: built in, so its OID is fixed and needs no lookup by name.
const JSONB: PgTypeInfo = PgTypeInfo::with_oid(sqlx::postgres::types::Oid(3802));

/// A JSON document bound as `jsonb` from its text, without parsing it again.
struct JsonText<'a>(Option<&'a str>);

impl sqlx::Type<Postgres> for JsonText<'_> {
    fn type_info() -> PgTypeInfo {
        JSONB
    }
}

impl sqlx::Encode<'_, Postgres> for JsonText<'_> {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        let Some(text) = self.0 else {
            return Ok(sqlx::encode::IsNull::Yes);
        };
        // jsonb's binary form: a version byte, then the text.
        buf.push(1);
        buf.extend_from_slice(text.as_bytes());
        Ok(sqlx::encode::IsNull::No)
    }
}

/// Parameters as PostgreSQL's own types: `uuid`, `timestamptz`, `jsonb`, `boolean`, so that
/// each must match its column's type exactly (PostgreSQL casts none of them implicitly).
fn bind<'q>(mut query: PgQuery<'q>, params: &'q [Value]) -> PgQuery<'q> {
    for value in params {
        query = match value {
            Value::Null(Kind::Text) => query.bind(None::<String>),
            Value::Null(Kind::Uuid) => query.bind(None::<Uuid>),
            Value::Null(Kind::Json) => query.bind(JsonText(None)),
            Value::Null(Kind::Int) => query.bind(None::<i64>),
            Value::Null(Kind::Bool) => query.bind(None::<bool>),
            Value::Null(Kind::Instant) => query.bind(None::<OffsetDateTime>),
            Value::Null(Kind::Real) => query.bind(None::<f64>),
            Value::Null(Kind::Bytes) => query.bind(None::<Vec<u8>>),
            Value::Bool(b) => query.bind(*b),
            Value::Int(n) => query.bind(*n),
            Value::Real(x) => query.bind(*x),
            Value::Text(text) => query.bind(text.as_str()),
            Value::Json(text) => query.bind(JsonText(Some(text))),
            Value::Bytes(bytes) => query.bind(bytes.as_slice()),
            Value::Uuid(id) => query.bind(*id),
            // Milliseconds, as SQLite keeps them: an instant read back, or a cursor made
            // from one, compares the same on either backend.
            Value::Instant(at) => query.bind(ordo_kernel::time::stored(*at)),
        };
    }
    query
}

fn columns(row: &PgRow) -> Arc<[String]> {
    row.columns()
        .iter()
        .map(|column| column.name().to_owned())
        .collect()
}

/// A `json` or `jsonb` value's text.
fn json_text(raw: &PgValueRef<'_>, binary_version_byte: bool) -> Result<String, sqlx::Error> {
    let bytes = raw.as_bytes().map_err(sqlx::Error::Decode)?;
    let text = match (raw.format(), binary_version_byte, bytes.split_first()) {
        (PgValueFormat::Binary, true, Some((1, text))) => text,
        (PgValueFormat::Binary, true, _) => {
            return Err(sqlx::Error::Decode("unknown jsonb version".into()));
        }
        _ => bytes,
    };
    String::from_utf8(text.to_vec()).map_err(|e| sqlx::Error::Decode(e.into()))
}

fn values(row: &PgRow) -> Result<Vec<Value>, sqlx::Error> {
    (0..row.columns().len())
        .map(|index| {
            let raw = row.try_get_raw(index)?;
            if raw.is_null() {
                return Ok(Value::Null(Kind::Text));
            }
            let type_info = raw.type_info();
            Ok(match type_info.name() {
                "BOOL" => Value::Bool(row.try_get(index)?),
                "INT2" => Value::Int(row.try_get::<i16, _>(index)?.into()),
                "INT4" => Value::Int(row.try_get::<i32, _>(index)?.into()),
                "INT8" => Value::Int(row.try_get(index)?),
                "FLOAT4" => Value::Real(row.try_get::<f32, _>(index)?.into()),
                "FLOAT8" => Value::Real(row.try_get(index)?),
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => Value::Text(row.try_get(index)?),
                "BYTEA" => Value::Bytes(row.try_get(index)?),
                "UUID" => Value::Uuid(row.try_get(index)?),
                "TIMESTAMPTZ" => Value::Instant(row.try_get(index)?),
                "JSONB" => Value::Json(json_text(&raw, true)?),
                "JSON" => Value::Json(json_text(&raw, false)?),
                "VOID" => Value::Null(Kind::Text),
                other => {
                    return Err(sqlx::Error::Decode(
                        format!(
                            "column {} is of type {other}, which the stores do not read \
                             (cast it in the query)",
                            row.columns()[index].name()
                        )
                        .into(),
                    ));
                }
            })
        })
        .collect()
}

impl Tx {
    /// Runs a statement; returns how many rows it changed.
    ///
    /// # Errors
    /// The statement failed.
    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        match &mut self.inner {
            TxInner::Own(tx) => pg_execute(tx, sql, params).await,
            TxInner::Read(conn) => pg_execute(conn, sql, params).await,
            TxInner::Grouped(member) => sqlite::execute(member.conn(), sql, params),
            TxInner::SqliteRead(reader) => sqlite::execute(reader.conn(), sql, params),
        }
    }

    /// Rows of a query, up to `limit`.
    async fn rows<T: FromRow>(
        &mut self,
        sql: &str,
        params: &[Value],
        limit: usize,
    ) -> Result<Vec<T>, Error> {
        let rows = match &mut self.inner {
            TxInner::Own(tx) => pg_query(tx, sql, params, limit).await?,
            TxInner::Read(conn) => pg_query(conn, sql, params, limit).await?,
            TxInner::Grouped(member) => sqlite::query(member.conn(), sql, params, limit)?,
            TxInner::SqliteRead(reader) => sqlite::query(reader.conn(), sql, params, limit)?,
        };
        rows.into_iter().map(T::from_row).collect()
    }

    /// Every row of a query.
    ///
    /// # Errors
    /// The query failed, or a row does not read as a `T`.
    pub async fn fetch_all<T: FromRow>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, Error> {
        self.rows(sql, params, usize::MAX).await
    }

    /// The first row of a query, if any.
    ///
    /// # Errors
    /// The query failed, or the row does not read as a `T`.
    pub async fn fetch_optional<T: FromRow>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<T>, Error> {
        Ok(self.rows(sql, params, 1).await?.pop())
    }

    /// The first row of a query, which must have one (an aggregate, a `RETURNING`).
    ///
    /// # Errors
    /// The query failed or returned nothing, or the row does not read as a `T`.
    pub async fn fetch_one<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<T, Error> {
        self.fetch_optional(sql, params).await?.ok_or(Error::NoRow)
    }

    /// Runs `sql`, several statements without parameters (a migration).
    pub(crate) async fn execute_script(&mut self, sql: &str) -> Result<(), Error> {
        match &mut self.inner {
            TxInner::Own(tx) => {
                tx.execute(sqlx::raw_sql(sql)).await?;
            }
            TxInner::Read(conn) => {
                conn.execute(sqlx::raw_sql(sql)).await?;
            }
            TxInner::Grouped(member) => member.conn().execute_batch(sql)?,
            TxInner::SqliteRead(reader) => reader.conn().execute_batch(sql)?,
        }
        Ok(())
    }
}

pub(crate) async fn pg_execute(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Value],
) -> Result<u64, Error> {
    let done = bind(sqlx::query(sql), params).execute(conn).await?;
    Ok(done.rows_affected())
}

/// Every row of a query, read as `T`s.
pub(crate) async fn pg_fetch_all<T: FromRow>(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<T>, Error> {
    let rows = pg_query(conn, sql, params, usize::MAX).await?;
    rows.into_iter().map(T::from_row).collect()
}

async fn pg_query(
    conn: &mut PgConnection,
    sql: &str,
    params: &[Value],
    limit: usize,
) -> Result<Vec<Row>, Error> {
    let rows = if limit == 1 {
        bind(sqlx::query(sql), params)
            .fetch_optional(conn)
            .await?
            .into_iter()
            .collect()
    } else {
        bind(sqlx::query(sql), params).fetch_all(conn).await?
    };
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns = columns(first);
    rows.iter()
        .map(|row| Ok(Row::new(columns.clone(), values(row)?)))
        .collect()
}

impl Db {
    /// Runs `work` as one write transaction: committed when it returns `Ok`, rolled back
    /// when it returns `Err` (or panics, or is cancelled). `work` owns what it needs, so
    /// that the transaction can run wherever the database does its writing.
    ///
    /// # Errors
    /// What `work` returned, or the database failing to begin or commit.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let mut tx = self.begin().await?;
        match work(&mut tx).await {
            Ok(done) => {
                tx.commit().await?;
                Ok(done)
            }
            Err(error) => {
                // The work's own error is what the caller needs; a failed rollback leaves
                // nothing behind (the transaction ends with its connection).
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }

    /// Runs one statement as a write transaction of its own; returns how many rows it
    /// changed.
    ///
    /// # Errors
    /// As [`Tx::execute`], or the commit failing.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let mut tx = self.begin().await?;
        let changed = tx.execute(sql, params).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Every row of one query, on a read connection.
    ///
    /// # Errors
    /// As [`Tx::fetch_all`].
    pub async fn fetch_all<T: FromRow>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, Error> {
        self.read_only().await?.fetch_all(sql, params).await
    }

    /// The first row of one query, if any, on a read connection.
    ///
    /// # Errors
    /// As [`Tx::fetch_optional`].
    pub async fn fetch_optional<T: FromRow>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<T>, Error> {
        self.read_only().await?.fetch_optional(sql, params).await
    }

    /// The one row of a query that always has one (an aggregate), on a read connection.
    ///
    /// # Errors
    /// As [`Tx::fetch_one`].
    pub async fn fetch_one<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<T, Error> {
        self.read_only().await?.fetch_one(sql, params).await
    }
}

/// Where a store's statements run: a transaction (`&mut Tx`), or the database itself
/// (`&Db`: each query on a read connection, each other statement a write transaction of
/// its own). Store functions take `impl Executor` when they serve both.
pub trait Executor: Send {
    /// As [`Tx::execute`].
    fn execute(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl Future<Output = Result<u64, Error>> + Send;

    /// As [`Tx::fetch_all`].
    fn fetch_all<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl Future<Output = Result<Vec<T>, Error>> + Send;

    /// As [`Tx::fetch_optional`].
    fn fetch_optional<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send;

    /// As [`Tx::fetch_one`].
    fn fetch_one<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl Future<Output = Result<T, Error>> + Send;
}

impl Executor for &mut Tx {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        Tx::execute(self, sql, params).await
    }

    async fn fetch_all<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, Error> {
        Tx::fetch_all(self, sql, params).await
    }

    async fn fetch_optional<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<T>, Error> {
        Tx::fetch_optional(self, sql, params).await
    }

    async fn fetch_one<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<T, Error> {
        Tx::fetch_one(self, sql, params).await
    }
}

impl Executor for &Db {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        Db::execute(self, sql, params).await
    }

    async fn fetch_all<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, Error> {
        Db::fetch_all(self, sql, params).await
    }

    async fn fetch_optional<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Option<T>, Error> {
        Db::fetch_optional(self, sql, params).await
    }

    async fn fetch_one<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<T, Error> {
        Db::fetch_one(self, sql, params).await
    }
}
