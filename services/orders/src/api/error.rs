//! What the orders service's own refusals answer over HTTP; the shared ones answer as
//! `ordo_kit` says.

use crate::app::OrdersError;
use axum::http::StatusCode;
use ordo_http::Problem;
use ordo_kit::Refusal;
use serde_json::json;
use std::time::Duration;

impl Refusal for OrdersError {
    const NOT_FOUND: &'static str = "no such order";

    fn problem(&self) -> Problem {
        match self {
            OrdersError::OutOfStock(short) => {
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
            OrdersError::KeyReused => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
                self.to_string(),
            ),
            OrdersError::KeyInFlight => {
                Problem::conflict("idempotency-key-in-flight", self.to_string())
                    .with_retry_after(Duration::from_secs(1))
            }
            OrdersError::TooSlow => Problem::unavailable(
                format!("{self}; send it again with the same Idempotency-Key"),
                Duration::from_secs(1),
            ),
            OrdersError::IllegalTransition(..) => {
                Problem::conflict("illegal-transition", self.to_string())
            }
            // Usually a moment: the courier's acceptance is on its way to the order.
            OrdersError::CourierNotKnownYet => {
                Problem::conflict("courier-not-known-yet", self.to_string())
                    .with_retry_after(Duration::from_secs(1))
            }
        }
    }
}
