//! The orders service's SQL, the same on SQLite and PostgreSQL.

pub mod idempotency;
pub mod orders;

#[cfg(test)]
mod idempotency_tests;
#[cfg(test)]
mod tests;

use ordo_db::Error;

/// A column that must hold a value when the row's other columns say so (a shipment's
/// carrier once it has an id, a done key's answer): NULL there is a row that does not read.
fn required<T>(value: Option<T>, column: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::Decode {
        column: column.to_owned(),
        message: "expected a value, found NULL".to_owned(),
    })
}
