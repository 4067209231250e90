//! Search's use cases: what the catalogue, inventory and reviews told it (recorded in its
//! tables and marked for the index in the consumer's transaction), the index catching up
//! with those marks, a rebuild from the tables, and the queries.

use crate::domain::{self, Query, Suggestion};
use crate::store::index::{Results, SearchIndex};
use crate::store::{self, Changed};
use ordo_contracts::catalog::{MerchantSnapshot, ProductSnapshot};
use ordo_db::{Db, Tx};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use time::OffsetDateTime;
use uuid::Uuid;

/// Search refuses nothing of its own: bad queries are `Invalid`.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<SearchError>;

/// How many marked changes the index takes per commit.
const BATCH: i64 = 200;
/// How many rows a rebuild reads at a time.
const REBUILD_PAGE: i64 = 2_000;
/// Most suggestions a type-ahead gets.
pub const MAX_SUGGESTIONS: usize = 10;

pub struct Search {
    db: Db,
    index: Arc<SearchIndex>,
    /// The index was created empty (missing, unreadable, another version): rebuild it.
    stale: AtomicBool,
    /// One writer of the index at a time: catching up and rebuilding do not interleave.
    indexing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

fn index_error(error: impl std::fmt::Display) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("search index: {error}"))
}

impl Search {
    /// Search over its database, with its index in `dir`.
    ///
    /// # Errors
    /// The index directory cannot be read or created.
    pub fn open(db: Db, dir: &Path) -> anyhow::Result<Search> {
        let (index, created) = SearchIndex::open(dir)?;
        Ok(Search {
            db,
            index: Arc::new(index),
            stale: AtomicBool::new(created),
            indexing: tokio::sync::Mutex::new(()),
        })
    }

    /// Records a merchant as the catalogue published it, for the index to take.
    ///
    /// # Errors
    /// The database failing.
    pub async fn merchant_changed(
        &self,
        tx: &mut Tx,
        merchant: &MerchantSnapshot,
    ) -> Result<(), AppError> {
        Ok(store::upsert_merchant(tx, merchant).await?)
    }

    /// Records a product as the catalogue published it, for the index to take.
    ///
    /// # Errors
    /// The database failing.
    pub async fn product_changed(
        &self,
        tx: &mut Tx,
        product: &ProductSnapshot,
    ) -> Result<(), AppError> {
        Ok(store::upsert_product(tx, product).await?)
    }

    /// Forgets a product the catalogue deleted.
    ///
    /// # Errors
    /// The database failing.
    pub async fn product_deleted(
        &self,
        tx: &mut Tx,
        product_id: Uuid,
        merchant_id: Uuid,
    ) -> Result<(), AppError> {
        Ok(store::delete_product(tx, product_id, merchant_id).await?)
    }

    /// Records what inventory says is available of a product.
    ///
    /// # Errors
    /// The database failing.
    pub async fn stock_changed(
        &self,
        tx: &mut Tx,
        product_id: Uuid,
        available: i64,
    ) -> Result<(), AppError> {
        Ok(store::set_stock(tx, product_id, available).await?)
    }

    /// Records a merchant's rating as reviews published it.
    ///
    /// # Errors
    /// The database failing.
    pub async fn rating_changed(
        &self,
        tx: &mut Tx,
        merchant_id: Uuid,
        average: f64,
        count: i64,
    ) -> Result<(), AppError> {
        Ok(store::set_rating(tx, merchant_id, average, count).await?)
    }

    /// Brings the index up to date: rebuilt when it was created empty, then every marked
    /// change taken. Returns how many documents or changes it took.
    ///
    /// # Errors
    /// The database or the index failing; what was not taken stays marked.
    pub async fn catch_up(&self) -> Result<usize, AppError> {
        let _only = self.indexing.lock().await;
        let mut taken = 0;
        if self.stale.load(Ordering::Acquire) {
            taken += self.build().await?;
            self.stale.store(false, Ordering::Release);
        }
        loop {
            let pending = store::pending(&self.db, BATCH).await?;
            if pending.is_empty() {
                return Ok(taken);
            }
            self.take(&pending).await?;
            let mut tx = self.db.begin().await?;
            store::done(&mut tx, &pending).await?;
            tx.commit().await?;
            taken += pending.len();
        }
    }

    /// Replaces the documents of the changed merchants and products (and all the products
    /// of a changed merchant) with what the tables say now.
    async fn take(&self, pending: &[store::Pending]) -> Result<(), AppError> {
        let (mut merchant_ids, mut product_ids) = (Vec::new(), Vec::new());
        for p in pending {
            match p.changed {
                Changed::Merchant(id) => merchant_ids.push(id),
                Changed::Product(id) => product_ids.push(id),
            }
        }
        let products = store::products(&self.db, &product_ids, &merchant_ids).await?;
        let owners: BTreeSet<Uuid> = merchant_ids
            .iter()
            .copied()
            .chain(products.iter().map(|p| p.merchant_id))
            .collect();
        let owners: Vec<Uuid> = owners.into_iter().collect();
        let merchants: HashMap<Uuid, store::Merchant> = store::merchants(&self.db, &owners)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let mut categories = HashMap::new();
        for id in &merchant_ids {
            categories.insert(*id, store::categories(&self.db, *id).await?);
        }
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || {
            let replaced: Vec<Uuid> = merchant_ids
                .iter()
                .chain(&product_ids)
                .copied()
                .chain(products.iter().map(|p| p.id))
                .collect();
            index.remove(&replaced)?;
            for id in &merchant_ids {
                if let Some(merchant) = merchants.get(id) {
                    index.add_merchant(merchant, &categories[id])?;
                }
            }
            for product in products.iter().filter(|p| p.active) {
                // A product whose merchant is not known yet waits for the merchant's event,
                // which brings all its products in.
                if let Some(merchant) = merchants.get(&product.merchant_id) {
                    index.add_product(product, merchant)?;
                }
            }
            index.commit()
        })
        .await
        .map_err(index_error)?
        .map_err(index_error)
    }

    /// Builds the index again from search's tables. Returns how many documents it holds.
    ///
    /// # Errors
    /// The database or the index failing; the index keeps what it had.
    pub async fn rebuild(&self) -> Result<usize, AppError> {
        let _only = self.indexing.lock().await;
        let built = self.build().await?;
        self.stale.store(false, Ordering::Release);
        Ok(built)
    }

    async fn build(&self) -> Result<usize, AppError> {
        let started = std::time::Instant::now();
        self.index.clear().map_err(index_error)?;
        let mut merchants = HashMap::new();
        let mut after = None;
        loop {
            let page = store::merchants_after(&self.db, after, REBUILD_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            merchants.extend(page.into_iter().map(|m| (m.id, m)));
        }
        let mut categories: HashMap<Uuid, BTreeSet<String>> = HashMap::new();
        let mut documents = 0;
        let mut after = None;
        loop {
            let page = store::products_after(&self.db, after, REBUILD_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for product in &page {
                if let Some(merchant) = merchants.get(&product.merchant_id) {
                    self.index
                        .add_product(product, merchant)
                        .map_err(index_error)?;
                    categories
                        .entry(merchant.id)
                        .or_default()
                        .insert(product.category.clone());
                    documents += 1;
                }
            }
        }
        for merchant in merchants.values() {
            let sold: Vec<String> = categories
                .remove(&merchant.id)
                .unwrap_or_default()
                .into_iter()
                .collect();
            self.index
                .add_merchant(merchant, &sold)
                .map_err(index_error)?;
            documents += 1;
        }
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || {
            index.commit()?;
            // Built whole, so one segment; the index stays right if the merge fails.
            if let Err(error) = index.compact() {
                tracing::warn!(%error, "the rebuilt search index stays in several segments");
            }
            Ok::<_, tantivy::TantivyError>(())
        })
        .await
        .map_err(index_error)?
        .map_err(index_error)?;
        tracing::info!(
            documents,
            seconds = started.elapsed().as_secs_f64(),
            "search index built"
        );
        Ok(documents)
    }

    /// The matches of `query` at `now` (for `open_now`).
    ///
    /// # Errors
    /// Reading the index failing.
    pub fn search(&self, query: &Query, now: OffsetDateTime) -> Result<Results, AppError> {
        self.index
            .search(query, domain::minute_of_week(now))
            .map_err(index_error)
    }

    /// Completions of `text`, at most `MAX_SUGGESTIONS`.
    ///
    /// # Errors
    /// `Invalid` text; reading the index failing.
    pub fn suggest(&self, text: &str) -> Result<Vec<Suggestion>, AppError> {
        let query = Query::parse(&domain::QueryParams {
            q: Some(text),
            ..domain::QueryParams::default()
        })?;
        let found = self
            .index
            .suggest(&query.text, MAX_SUGGESTIONS)
            .map_err(index_error)?;
        Ok(found
            .into_iter()
            .map(|stored| match stored.product {
                Some(product) => Suggestion {
                    text: product.name,
                    kind: "product",
                    id: product.id,
                },
                None => Suggestion {
                    text: stored.merchant.name,
                    kind: "merchant",
                    id: stored.merchant.id,
                },
            })
            .collect())
    }

    /// Documents in the index.
    #[must_use]
    pub fn indexed(&self) -> u64 {
        self.index.len()
    }

    /// Segments of the index queries visit.
    #[must_use]
    pub fn segments(&self) -> usize {
        self.index.segments()
    }
}
