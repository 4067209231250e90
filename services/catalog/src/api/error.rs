//! What the catalogue's own refusals answer over HTTP; the shared ones answer as `ordo_kit`
//! says.

use crate::app::CatalogError;
use crate::domain::picture::{MAX_PIXELS, MAX_SIDE};
use axum::http::StatusCode;
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
            CatalogError::NotAnImage { declared } => Problem::unsupported_media_type(format!(
                "This file is not a {declared} picture. Send a JPEG, PNG or WebP picture."
            )),
            CatalogError::ImageTypeMismatch { declared, found } => {
                Problem::unsupported_media_type(format!(
                    "This file is {found}, not {declared} as its Content-Type says. \
                     Send a JPEG, PNG or WebP picture with its own type."
                ))
            }
            CatalogError::ImageUnreadable { kind } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "image-unreadable",
                "Unreadable picture",
                format!("This {kind} picture cannot be read: the file is damaged or incomplete."),
            ),
            CatalogError::ImageTooLarge => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "image-too-large",
                "Picture too large",
                format!(
                    "This picture is too large: at most {MAX_SIDE} pixels a side and {} \
                     megapixels in all.",
                    MAX_PIXELS / 1_000_000
                ),
            ),
        }
    }
}
