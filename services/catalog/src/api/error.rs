//! The one mapping from the catalogue's use-case errors to HTTP problems.

use crate::app::AppError;
use ordo_http::Problem;

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(violations) => Problem::invalid(violations),
            AppError::NotFound => Problem::not_found("no such resource"),
            AppError::Forbidden(detail) => Problem::forbidden(detail),
            AppError::SkuTaken => Problem::conflict(
                "sku-taken",
                "the merchant already has a product with this SKU",
            ),
            AppError::Unexpected(cause) => Problem::internal(cause.as_ref()),
        }
    }
}
