//! Domain -> contract, appended in the use case's transaction.

use crate::domain::Review;
use ordo_bus::{BusError, EventMeta, Outbox};
use ordo_contracts::reviews::{RatingSummary, ReviewPublished};
use ordo_db::Tx;

pub(crate) async fn review_published(
    outbox: &Outbox,
    tx: &mut Tx,
    review: &Review,
    merchant_rating: RatingSummary,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = ReviewPublished {
        review_id: review.id,
        order_id: review.order_id,
        merchant_id: review.merchant_id,
        product_ids: review.product_ids.clone(),
        rating: review.rating,
        merchant_rating,
    };
    outbox
        .append(tx, &review.merchant_id.to_string(), &event, meta)
        .await
        .map(|_| ())
}
