//! What the cart's own refusals answer over HTTP; the shared ones answer as `ordo_kit` says.

use crate::app::CartError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for CartError {
    const NOT_FOUND: &'static str = "the product is not in the cart";

    fn problem(&self) -> Problem {
        match self {
            CartError::Conflict(detail) => Problem::conflict("cart-limit", *detail),
            CartError::OtherMerchant { merchant_id, name } => {
                let whose = name.as_deref().unwrap_or("another merchant");
                Problem::conflict(
                    "cart-other-merchant",
                    format!(
                        "Your cart holds items from {whose}; one merchant per order. Empty the cart to order from another merchant."
                    ),
                )
                .with_extension("merchant_id", merchant_id.to_string().into())
            }
        }
    }
}
