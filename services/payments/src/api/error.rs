//! What the payments service's own refusals answer over HTTP and mean to the bus; the shared
//! ones answer as `ordo_kit` says.

use crate::app::PaymentsError;
use ordo_http::Problem;
use ordo_kit::Refusal;
use std::time::Duration;

impl Refusal for PaymentsError {
    const NOT_FOUND: &'static str = "no such payment method or payment";

    fn problem(&self) -> Problem {
        match self {
            PaymentsError::Conflict(detail) => Problem::conflict("conflict", *detail),
            PaymentsError::BadSignature(_) => Problem::unauthorized(self.to_string()),
            PaymentsError::Provider(error) => {
                Problem::unavailable(error.to_string(), Duration::from_secs(5))
            }
        }
    }

    /// The provider may answer a later attempt.
    fn is_transient(&self) -> bool {
        matches!(self, PaymentsError::Provider(_))
    }
}
