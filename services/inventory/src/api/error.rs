//! What inventory's own refusals answer over HTTP; the shared ones answer as `ordo_kit`
//! says.

use crate::app::InventoryError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for InventoryError {
    const NOT_FOUND: &'static str = "no such product";

    fn problem(&self) -> Problem {
        match self {
            InventoryError::BelowReserved { .. } => {
                Problem::conflict("below-reserved", self.to_string())
            }
        }
    }
}
