//! `CatalogClient` for services in other processes: the catalogue's internal routes
//! (`api::internal`) over HTTP, with what they answered of merchants and products kept a
//! while. Every checkout asks for its products and every new order for its merchant's
//! staff, and both change seldom: kept, they cost no call. The catalogue names what changed
//! on its wake-up topic (`crate::CHANGED`) once committed, and that goes at once; what a lost
//! wake-up leaves is gone after `KEEP_FOR`, as long as a CDN and the gateway keep a menu.

use crate::api::internal::ProductIds;
use ordo_contracts::ClientFuture;
use ordo_contracts::catalog::{CatalogClient, MerchantSnapshot, ProductSnapshot};
use ordo_remote::{Retry, ServiceClient};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long an answer is kept at most: a change whose wake-up was lost shows after this.
const KEEP_FOR: Duration = Duration::from_secs(30);

/// The most merchants, and the most products, kept.
const MOST_KEPT: usize = 10_000;

/// Answers kept by id until `KEEP_FOR` has passed or the catalogue says the id changed.
struct Kept<T> {
    entries: Mutex<HashMap<Uuid, (Instant, T)>>,
}

impl<T: Clone> Kept<T> {
    fn new() -> Self {
        Kept {
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Instant, T)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, id: Uuid) -> Option<T> {
        let entries = self.entries();
        let (until, value) = entries.get(&id)?;
        (*until > Instant::now()).then(|| value.clone())
    }

    fn keep(&self, id: Uuid, value: T) {
        let now = Instant::now();
        let mut entries = self.entries();
        if entries.len() >= MOST_KEPT {
            entries.retain(|_, (until, _)| *until > now);
            if entries.len() >= MOST_KEPT {
                entries.clear();
            }
        }
        entries.insert(id, (now + KEEP_FOR, value));
    }

    fn forget(&self, id: Uuid) {
        self.entries().remove(&id);
    }
}

/// What the catalogue's answers kept: merchants and products by id.
struct Answers {
    merchants: Kept<MerchantSnapshot>,
    products: Kept<ProductSnapshot>,
    /// Counts the changes heard: an answer asked for before one is not kept, for it may
    /// be of before the change.
    changes: AtomicU64,
}

impl Answers {
    fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }
}

/// The catalogue in another process.
pub struct RemoteCatalog {
    service: ServiceClient,
    kept: Arc<Answers>,
}

impl std::fmt::Debug for RemoteCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteCatalog")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// The client the catalogue provides when it runs elsewhere.
#[must_use]
pub fn client(service: ServiceClient) -> Arc<dyn CatalogClient> {
    let kept = Arc::new(Answers {
        merchants: Kept::new(),
        products: Kept::new(),
        changes: AtomicU64::new(0),
    });
    let forgets = kept.clone();
    service.echoes().listen(
        crate::CHANGED,
        Arc::new(move |id| {
            forgets.changes.fetch_add(1, Ordering::AcqRel);
            forgets.merchants.forget(id);
            forgets.products.forget(id);
        }),
    );
    Arc::new(RemoteCatalog { service, kept })
}

impl RemoteCatalog {
    /// Whether answers may be kept: only while the catalogue's changes are heard.
    fn keeps(&self) -> bool {
        self.service.echoes().hearing()
    }
}

impl CatalogClient for RemoteCatalog {
    fn products<'a>(&'a self, ids: &'a [Uuid]) -> ClientFuture<'a, Vec<ProductSnapshot>> {
        Box::pin(async move {
            let keeps = self.keeps();
            let mut found = Vec::with_capacity(ids.len());
            let mut missing = Vec::new();
            for id in ids {
                match self.kept.products.get(*id).filter(|_| keeps) {
                    Some(product) => found.push(product),
                    None => missing.push(*id),
                }
            }
            if missing.is_empty() {
                return Ok(found);
            }
            let changes = self.kept.changes();
            let body = ProductIds { ids: missing };
            let fetched: Vec<ProductSnapshot> = self
                .service
                .post("/products", &body, Retry::Safe, None)
                .await?;
            let keeps = keeps && self.kept.changes() == changes;
            for product in &fetched {
                if keeps {
                    self.kept.products.keep(product.product_id, product.clone());
                }
            }
            found.extend(fetched);
            Ok(found)
        })
    }

    fn merchant(&self, id: Uuid) -> ClientFuture<'_, Option<MerchantSnapshot>> {
        Box::pin(async move {
            let keeps = self.keeps();
            if let Some(merchant) = self.kept.merchants.get(id).filter(|_| keeps) {
                return Ok(Some(merchant));
            }
            let changes = self.kept.changes();
            let merchant: Option<MerchantSnapshot> =
                self.service.get(&format!("/merchants/{id}"), &[]).await?;
            let keeps = keeps && self.kept.changes() == changes;
            if let Some(merchant) = merchant.as_ref().filter(|_| keeps) {
                self.kept.merchants.keep(id, merchant.clone());
            }
            Ok(merchant)
        })
    }

    fn find_merchants<'a>(&'a self, query: &'a str, limit: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async move {
            let query = [("q", query.to_owned()), ("limit", limit.to_string())];
            self.service.get("/merchants", &query).await
        })
    }
}
