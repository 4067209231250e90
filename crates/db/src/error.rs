//! What a statement or a transaction can fail with, whichever the backend.

/// A database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("column `{column}`: {message}")]
    Decode { column: String, message: String },
    #[error("the statement returned no row")]
    NoRow,
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
            Error::Decode { .. } | Error::NoRow => false,
        }
    }

    /// Whether the error is a unique-key violation (a duplicate).
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sql(error) => crate::is_unique_violation(error),
            Error::Decode { .. } | Error::NoRow => false,
        }
    }
}
