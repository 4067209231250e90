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

async fn insert(tx: &mut ordo_db::Tx, id: &str, qty: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO things (id, qty) VALUES ($1, $2)")
        .bind(id)
        .bind(qty)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

async fn ids(db: &Db) -> Vec<String> {
    sqlx::query("SELECT id FROM things ORDER BY id")
        .fetch_all(db.reader())
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Concurrent transactions: each commits or rolls back alone, whatever its neighbours in
/// a commit group do, and what committed is visible once `commit` returns.
async fn concurrent_transactions_commit_or_fail_alone(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    db.migrate(&[CREATE]).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..64 {
        let db = db.clone();
        tasks.spawn(async move {
            let mut tx = db.begin().await.unwrap();
            insert(&mut tx, &format!("k{n:02}"), 1).await.unwrap();
            match n % 4 {
                // A statement fails (the CHECK) and the transaction goes on and commits:
                // SQLite undoes the statement, PostgreSQL dooms the transaction.
                0 => {
                    assert!(insert(&mut tx, &format!("bad{n:02}"), -1).await.is_err());
                    tx.commit().await.unwrap();
                }
                1 => tx.rollback().await.unwrap(),
                // Dropped unfinished, as when a request is cancelled.
                2 => drop(tx),
                _ => {
                    tx.commit().await.unwrap();
                    let seen = ids(&db).await;
                    assert!(seen.contains(&format!("k{n:02}")), "visible once committed");
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let sqlite = db.dialect() == Dialect::Sqlite;
    let expected: Vec<String> = (0..64)
        .filter(|n| (sqlite && n % 4 == 0) || n % 4 == 3)
        .map(|n| format!("k{n:02}"))
        .collect();
    assert_eq!(ids(&db).await, expected);
    if let Some(commits) = db.commit_groups() {
        assert_eq!(commits.transactions, 32 + 1, "and the migration's");
        assert!(
            commits.groups < commits.transactions,
            "transactions waiting together commit together: {commits:?}"
        );
    }
    db.close().await;
    assert!(db.begin().await.is_err(), "closed");
}
backend_test!(group_commit, concurrent_transactions_commit_or_fail_alone);
