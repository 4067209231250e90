//! The one mapping from the catalogue's use-case errors to HTTP problems.

use crate::app::AppError;
use ordo_http::{FieldError, Problem};

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(violations) => Problem::validation(
                violations
                    .into_vec()
                    .into_iter()
                    .map(|v| FieldError::new(v.field, v.message))
                    .collect(),
            ),
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
