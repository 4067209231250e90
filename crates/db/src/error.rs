//! What a statement or a transaction can fail with, whichever the backend.

/// A database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("column `{column}`: {message}")]
    Decode { column: String, message: String },
    #[error("the statement names parameter ${expected} but {given} were given")]
    Parameters { expected: usize, given: usize },
    /// A [`crate::Batch`] that cannot run as it was built.
    #[error("a batch: {0}")]
    Batch(String),
    #[error("the statement returned no row")]
    NoRow,
    #[error("no database connection came free in time")]
    Busy,
    #[error("the database is closed")]
    Closed,
    /// The commit of the group the transaction was in failed (an I/O error, a full disk):
    /// nothing it wrote remains.
    #[error("the commit failed: {0}")]
    GroupFailed(String),
}

impl Error {
    pub(crate) fn decode(column: &str, message: &str) -> Self {
        Error::Decode {
            column: column.to_owned(),
            message: message.to_owned(),
        }
    }

    /// Whether the database could not be reached or could not take the work now: a retry
    /// later may succeed, and the request deserves a `503`, not a `500`.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Sql(error) => crate::is_unavailable(error),
            Error::Sqlite(error) => crate::sqlite::is_unavailable(error),
            Error::Busy | Error::Closed | Error::GroupFailed(_) => true,
            Error::Decode { .. } | Error::Parameters { .. } | Error::Batch(_) | Error::NoRow => {
                false
            }
        }
    }

    /// Whether the error is a unique-key violation (a duplicate).
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sql(error) => crate::is_unique_violation(error),
            Error::Sqlite(error) => crate::sqlite::is_unique_violation(error),
            _ => false,
        }
    }
}
