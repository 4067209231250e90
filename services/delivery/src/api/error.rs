//! What delivery's own refusals answer over HTTP; the shared ones answer as `ordo_kit` says.

use crate::app::DeliveryError;
use axum::http::StatusCode;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for DeliveryError {
    const NOT_FOUND: &'static str = "no such offer or delivery";

    fn problem(&self) -> Problem {
        match self {
            DeliveryError::Offline => Problem::conflict("courier-offline", self.to_string()),
            DeliveryError::TooOften(wait) => Problem::rate_limited(*wait),
            DeliveryError::Gone(detail) => Problem::conflict("offer-gone", *detail),
            DeliveryError::BadSignature(_) => Problem::unauthorized(self.to_string()),
            DeliveryError::IllegalTransition(..) => {
                Problem::conflict("illegal-transition", self.to_string())
            }
            DeliveryError::NoAddress(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                self.to_string(),
            ),
        }
    }
}
