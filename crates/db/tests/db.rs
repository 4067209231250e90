//! The database handle on both backends: placeholders, migrations, constraints, pragmas.

use ordo_db::{Db, Dialect, Migration, is_unique_violation};
use ordo_testkit::{Backend, backend_test};
use sqlx::Row;

const CREATE: Migration = Migration {
    version: 1,
    name: "0001_create_things",
    sqlite: "CREATE TABLE things (id TEXT PRIMARY KEY, qty BIGINT NOT NULL CHECK (qty >= 0));",
    postgres: "CREATE TABLE things (id TEXT PRIMARY KEY, qty BIGINT NOT NULL CHECK (qty >= 0));",
};

async fn open(backend: &Backend, dir: &std::path::Path) -> Db {
    backend.open(dir, "things").await
}

async fn migrations_apply_once_and_detect_edits(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    db.migrate(&[CREATE]).await.expect("first run");
    db.migrate(&[CREATE]).await.expect("second run is a no-op");

    let edited = Migration {
        sqlite: "CREATE TABLE things (id TEXT);",
        postgres: "CREATE TABLE things (id TEXT);",
        ..CREATE
    };
    let error = db.migrate(&[edited]).await.expect_err("edited migration");
    assert!(error.to_string().contains("was changed"), "{error}");
}
backend_test!(migrations, migrations_apply_once_and_detect_edits);

async fn numbered_placeholders_and_constraints_work(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    db.migrate(&[CREATE]).await.unwrap();

    let mut tx = db.begin().await.unwrap();
    sqlx::query("INSERT INTO things (id, qty) VALUES ($1, $2)")
        .bind("a")
        .bind(3_i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let duplicate = sqlx::query("INSERT INTO things (id, qty) VALUES ($1, $2)")
        .bind("a")
        .bind(1_i64)
        .execute(&mut *db.begin().await.unwrap())
        .await
        .expect_err("duplicate key");
    assert!(is_unique_violation(&duplicate));

    let negative = sqlx::query("UPDATE things SET qty = qty - $1 WHERE id = $2")
        .bind(5_i64)
        .bind("a")
        .execute(&mut *db.begin().await.unwrap())
        .await;
    assert!(negative.is_err(), "CHECK (qty >= 0) must hold");

    let qty: i64 = sqlx::query("SELECT qty FROM things WHERE id = $1")
        .bind("a")
        .fetch_one(db.reader())
        .await
        .unwrap()
        .get(0);
    assert_eq!(qty, 3, "the rolled-back writes changed nothing");
    assert!(db.ping().await);
}
backend_test!(placeholders, numbered_placeholders_and_constraints_work);

async fn sqlite_runs_durable_wal(backend: Backend) {
    if backend != Backend::Sqlite {
        return;
    }
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    assert_eq!(db.dialect(), Dialect::Sqlite);
    let mut tx = db.begin().await.unwrap();
    for (pragma, expected) in [
        ("journal_mode", "wal"),
        ("synchronous", "2"),
        ("foreign_keys", "1"),
    ] {
        let row = sqlx::query(&format!("PRAGMA {pragma}"))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let value: String = row
            .try_get::<String, _>(0)
            .unwrap_or_else(|_| row.get::<i64, _>(0).to_string());
        assert_eq!(value, expected, "PRAGMA {pragma}");
    }
}
backend_test!(sqlite_pragmas, sqlite_runs_durable_wal);
