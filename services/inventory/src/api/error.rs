//! The one mapping from inventory's use-case errors to HTTP problems.

use crate::app::AppError;
use ordo_http::Problem;

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(violations) => Problem::invalid(violations),
            AppError::NotFound => Problem::not_found("no such product"),
            AppError::Forbidden(detail) => Problem::forbidden(detail),
            error @ AppError::BelowReserved { .. } => {
                Problem::conflict("below-reserved", error.to_string())
            }
            AppError::Unexpected(cause) => Problem::internal(cause.as_ref()),
        }
    }
}
