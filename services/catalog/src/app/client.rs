//! The catalogue as other services call it in process (`ordo_contracts::catalog`).

use super::Catalog;
use crate::events::{merchant_snapshot, product_snapshot};
use crate::store::{merchants, products};
use ordo_contracts::catalog::{CatalogClient, MerchantSnapshot, ProductSnapshot};
use ordo_contracts::{ClientError, ClientFuture, MAX_FOUND};
use uuid::Uuid;

/// Most products one call may ask for: an order's or a cart's lines.
const MAX_IDS: usize = 200;

fn unavailable(error: ordo_db::Error) -> ClientError {
    ClientError::failed(crate::NAME, error.is_unavailable(), error)
}

impl CatalogClient for Catalog {
    fn products<'a>(&'a self, ids: &'a [Uuid]) -> ClientFuture<'a, Vec<ProductSnapshot>> {
        Box::pin(async move {
            let mut found = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(MAX_IDS) {
                let rows = products::by_ids(&self.db, chunk)
                    .await
                    .map_err(unavailable)?;
                found.extend(rows.iter().map(product_snapshot));
            }
            Ok(found)
        })
    }

    fn merchant(&self, id: Uuid) -> ClientFuture<'_, Option<MerchantSnapshot>> {
        Box::pin(async move {
            let merchant = merchants::find(&self.db, id).await.map_err(unavailable)?;
            Ok(merchant.as_ref().map(merchant_snapshot))
        })
    }

    fn find_merchants<'a>(&'a self, query: &'a str, limit: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async move {
            let limit = i64::try_from(limit.min(MAX_FOUND)).unwrap_or(0);
            merchants::named_like(&self.db, &ordo_db::sql::contains(query.trim()), limit)
                .await
                .map_err(unavailable)
        })
    }
}
