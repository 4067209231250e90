//! What the catalogue's own refusals answer over HTTP; the shared ones answer as `ordo_kit`
//! says.

use crate::app::CatalogError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for CatalogError {
    const NOT_FOUND: &'static str = "no such resource";

    fn problem(&self) -> Problem {
        match self {
            CatalogError::SkuTaken => Problem::conflict(
                "sku-taken",
                "the merchant already has a product with this SKU",
            ),
        }
    }
}
