//! What the payments tests share: a database with the service's and the bus's tables.

use ordo_db::Db;
use ordo_testkit::Backend;

/// A fresh payments database on `backend`, kept in the returned directory (SQLite).
pub async fn migrated(backend: &Backend) -> (tempfile::TempDir, Db) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "payments").await;
    db.migrate(ordo_payments::migrations()).await.unwrap();
    db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
        .await
        .unwrap();
    (dir, db)
}
