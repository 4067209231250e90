//! The one mapping from notifications' use-case errors to HTTP problems.

use crate::app::AppError;
use ordo_http::Problem;

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound => Problem::not_found("no such notification"),
            error @ (AppError::UnknownOrder(_) | AppError::EmailFailed(_)) => {
                Problem::internal(&error)
            }
            AppError::Unexpected(cause) => Problem::internal(cause.as_ref()),
        }
    }
}
