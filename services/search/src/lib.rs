//! Search: a tantivy index of merchants and their active products, for full text with
//! typos forgiven, facets, distance and opening hours.
//!
//! Consumes the catalogue's merchant and product events, inventory's `stock.changed` and
//! reviews' `review.published`; publishes nothing. What they tell is kept in search's own
//! tables, and the index (under the data dir) is built from those, so it can be rebuilt at
//! any time (`ordo search reindex`), and is, when missing or of another schema version.

mod api;
mod app;
mod domain;
mod events;
mod store;

pub use api::router;
pub use app::{AppError, Search, SearchError};
pub use events::consume::subscriptions;
pub use store::index::SCHEMA_VERSION as INDEX_SCHEMA_VERSION;

use ordo_kit::{Parts, Service, Sweep};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The service's name: its database, schema and log target.
pub const NAME: &str = "search";

/// How often the index looks for changes it was not woken for (a change committed by
/// another process).
const CATCH_UP_EVERY: Duration = Duration::from_secs(1);

/// Search on its database, with its index in `index_dir`.
#[must_use]
pub fn service(index_dir: PathBuf) -> Service {
    Service::new(NAME, migrations(), api::paths, move |wiring| {
        let db = wiring.db().clone();
        let search = Arc::new(Search::open(db.clone(), &index_dir)?);
        wiring.expose(search.clone());
        let indexed = Arc::new(Notify::new());
        let catch_up = Sweep::new(
            "search index changes taken",
            CATCH_UP_EVERY,
            &search,
            |search, _| async move { search.catch_up().await },
        )
        .woken_by(indexed.clone())
        // Each instance keeps an index of its own.
        .per_instance();
        Ok(Parts::routes(router(search.clone()))
            .subscriptions(subscriptions(search, db, indexed))
            .sweep(catch_up))
    })
}

/// Search's migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_search"),
        ordo_db::migration!(2, "0002_native_types", per_dialect),
    ];
    MIGRATIONS
}
