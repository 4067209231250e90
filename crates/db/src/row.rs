//! Reading portable column types: ids are text, instants are epoch milliseconds.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use uuid::Uuid;

fn decode_error(
    column: &str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(error),
    }
}

/// # Errors
/// When the column is missing or not a UUID.
pub fn uuid(row: &AnyRow, column: &str) -> Result<Uuid, sqlx::Error> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|e| decode_error(column, e))
}

/// # Errors
/// When the column is missing or holds something other than a UUID or NULL.
pub fn opt_uuid(row: &AnyRow, column: &str) -> Result<Option<Uuid>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|e| decode_error(column, e)))
        .transpose()
}

/// # Errors
/// When the column is missing or not an integer.
pub fn instant(row: &AnyRow, column: &str) -> Result<OffsetDateTime, sqlx::Error> {
    Ok(ordo_kernel::time::from_millis(row.try_get(column)?))
}

/// # Errors
/// When the column is missing or holds something other than an integer or NULL.
pub fn opt_instant(row: &AnyRow, column: &str) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    let millis: Option<i64> = row.try_get(column)?;
    Ok(millis.map(ordo_kernel::time::from_millis))
}

/// An instant as stored.
#[must_use]
pub fn millis(at: OffsetDateTime) -> i64 {
    ordo_kernel::time::to_millis(at)
}
