//! The one mapping from the orders service's use-case errors to HTTP problems.

use crate::app::AppError;
use axum::http::StatusCode;
use ordo_http::Problem;
use serde_json::json;
use std::time::Duration;

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(violations) => Problem::invalid(violations),
            AppError::NotFound => Problem::not_found("no such order"),
            AppError::Forbidden(detail) => Problem::forbidden(detail),
            AppError::OutOfStock(short) => {
                let names: Vec<String> = short
                    .iter()
                    .map(|s| {
                        format!(
                            "{} ({} requested, {} available)",
                            s.name, s.requested, s.available
                        )
                    })
                    .collect();
                let items: Vec<_> = short
                    .iter()
                    .map(|s| json!({"product_id": s.product_id, "name": s.name, "requested": s.requested, "available": s.available}))
                    .collect();
                Problem::conflict(
                    "out-of-stock",
                    format!("out of stock: {}", names.join(", ")),
                )
                .with_extension("items", items.into())
            }
            error @ AppError::KeyReused => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
                error.to_string(),
            ),
            error @ AppError::KeyInFlight => {
                Problem::conflict("idempotency-key-in-flight", error.to_string())
                    .with_retry_after(Duration::from_secs(1))
            }
            error @ AppError::TooSlow => Problem::unavailable(
                format!("{error}; send it again with the same Idempotency-Key"),
                Duration::from_secs(1),
            ),
            error @ AppError::IllegalTransition(..) => {
                Problem::conflict("illegal-transition", error.to_string())
            }
            AppError::Unexpected(cause) => Problem::internal(cause.as_ref()),
        }
    }
}
