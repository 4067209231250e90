//! Event -> use case.

use crate::app::Search;
use ordo_bus::Subscription;
use ordo_contracts::catalog::{
    MerchantCreated, MerchantUpdated, ProductCreated, ProductDeleted, ProductUpdated,
};
use ordo_contracts::inventory::StockChanged;
use ordo_contracts::reviews::ReviewPublished;
use ordo_db::Db;
use std::sync::Arc;
use tokio::sync::Notify;

/// Search's consumer: the catalogue's merchants and products, their stock and their
/// ratings, each recorded and marked for the index; `indexed` wakes the index after each
/// commit.
#[must_use]
pub fn subscriptions(search: Arc<Search>, db: Db, indexed: Arc<Notify>) -> Vec<Subscription> {
    vec![
        Subscription::new("search-index", db)
            .on(&search, |search, tx, created: MerchantCreated, _| {
                Box::pin(async move { search.merchant_changed(tx, &created.merchant).await })
            })
            .on(&search, |search, tx, updated: MerchantUpdated, _| {
                Box::pin(async move { search.merchant_changed(tx, &updated.merchant).await })
            })
            .on(&search, |search, tx, created: ProductCreated, _| {
                Box::pin(async move { search.product_changed(tx, &created.product).await })
            })
            .on(&search, |search, tx, updated: ProductUpdated, _| {
                Box::pin(async move { search.product_changed(tx, &updated.product).await })
            })
            .on(&search, |search, tx, deleted: ProductDeleted, _| {
                Box::pin(async move {
                    search
                        .product_deleted(tx, deleted.product_id, deleted.merchant_id)
                        .await
                })
            })
            .on(&search, |search, tx, stock: StockChanged, _| {
                Box::pin(async move {
                    search
                        .stock_changed(tx, stock.product_id, stock.available)
                        .await
                })
            })
            .on(&search, |search, tx, review: ReviewPublished, _| {
                Box::pin(async move {
                    let rating = review.merchant_rating;
                    search
                        .rating_changed(tx, review.merchant_id, rating.average, rating.count)
                        .await
                })
            })
            .notifying(indexed),
    ]
}
