//! What the reviews service publishes: a review made public, with the merchant's rating
//! after it, so that search can rank by rating without asking. Subjects are the merchant's
//! id.

use crate::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "reviews";

/// A subject's published reviews in short.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatingSummary {
    /// Mean of the published ratings, 1 to 5; 0 when there are none.
    pub average: f64,
    pub count: i64,
}

/// A review was approved and is public.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewPublished {
    pub review_id: Uuid,
    pub order_id: Uuid,
    pub merchant_id: Uuid,
    pub product_ids: Vec<Uuid>,
    /// 1 to 5.
    pub rating: i64,
    /// The merchant's rating with this review counted.
    pub merchant_rating: RatingSummary,
}

impl Event for ReviewPublished {
    const TYPE: &'static str = "review.published";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;

    fn order_id(&self) -> Option<Uuid> {
        Some(self.order_id)
    }
}
