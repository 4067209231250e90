//! The one mapping from the payments service's use-case errors to HTTP problems.

use crate::app::AppError;
use ordo_http::Problem;
use std::time::Duration;

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(violations) => Problem::invalid(violations),
            AppError::NotFound => Problem::not_found("no such payment method or payment"),
            AppError::Forbidden(detail) => Problem::forbidden(detail),
            AppError::Conflict(detail) => Problem::conflict("conflict", detail),
            error @ AppError::BadSignature(_) => Problem::unauthorized(error.to_string()),
            AppError::Provider(error) => {
                Problem::unavailable(error.to_string(), Duration::from_secs(5))
            }
            AppError::Unexpected(cause) => Problem::internal(cause.as_ref()),
        }
    }
}
