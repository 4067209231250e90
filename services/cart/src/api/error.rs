//! The one mapping from the cart's use-case errors to HTTP problems.

use crate::app::AppError;
use ordo_http::Problem;

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(violations) => Problem::invalid(violations),
            AppError::NotFound => Problem::not_found("the product is not in the cart"),
            AppError::Forbidden(detail) => Problem::forbidden(detail),
            AppError::Conflict(detail) => Problem::conflict("cart-limit", detail),
            AppError::Unexpected(cause) => Problem::internal(cause.as_ref()),
        }
    }
}
