//! What the cart's own refusals answer over HTTP; the shared ones answer as `ordo_kit` says.

use crate::app::CartError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for CartError {
    const NOT_FOUND: &'static str = "the product is not in the cart";

    fn problem(&self) -> Problem {
        match self {
            CartError::Conflict(detail) => Problem::conflict("cart-limit", *detail),
        }
    }
}
