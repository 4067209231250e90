//! The database handle on both backends: placeholders, migrations, constraints, pragmas.

use ordo_db::{Db, Dialect, Error, Migration, StatusMove, params};
use ordo_testkit::{Backend, backend_test};

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
    insert(&mut tx, "a", 3).await.unwrap();
    tx.commit().await.unwrap();

    let duplicate = insert(&mut db.begin().await.unwrap(), "a", 1)
        .await
        .expect_err("duplicate key");
    assert!(duplicate.is_unique_violation());

    // Placeholders are bound by number, whatever order they appear in.
    let negative = db
        .begin()
        .await
        .unwrap()
        .execute(
            "UPDATE things SET qty = qty - $2 WHERE id = $1",
            params!["a", 5_i64],
        )
        .await;
    assert!(negative.is_err(), "CHECK (qty >= 0) must hold");

    let (qty,): (i64,) = db
        .fetch_one(
            "SELECT qty FROM things WHERE id = $1 AND ($1 IS NOT NULL)",
            params!["a"],
        )
        .await
        .unwrap();
    assert_eq!(qty, 3, "the rolled-back writes changed nothing");
    assert!(db.ping().await);
}
backend_test!(placeholders, numbered_placeholders_and_constraints_work);

async fn a_transaction_keeps_the_shard_it_drew(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let mut drawn = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let tx = db.begin().await.unwrap();
        let shard = tx.shard(8);
        assert!((0..8).contains(&shard), "{shard}");
        assert_eq!(tx.shard(8), shard, "the same for the whole transaction");
        assert_eq!(tx.shard(0), 0);
        drawn.insert(shard);
        tx.rollback().await.unwrap();
    }
    assert!(drawn.len() > 1, "transactions draw apart: {drawn:?}");
}

backend_test!(shards, a_transaction_keeps_the_shard_it_drew);

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
        let (value,): (ordo_db::Value,) = tx
            .fetch_one(&format!("PRAGMA {pragma}"), params![])
            .await
            .unwrap();
        let value = match value {
            ordo_db::Value::Text(text) => text,
            ordo_db::Value::Int(n) => n.to_string(),
            other => panic!("PRAGMA {pragma} gave {other:?}"),
        };
        assert_eq!(value, expected, "PRAGMA {pragma}");
    }
}
backend_test!(sqlite_pragmas, sqlite_runs_durable_wal);

async fn insert(tx: &mut ordo_db::Tx, id: &str, qty: i64) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO things (id, qty) VALUES ($1, $2)",
        params![id, qty],
    )
    .await
    .map(drop)
}

async fn ids(db: &Db) -> Vec<String> {
    let rows: Vec<(String,)> = db
        .fetch_all("SELECT id FROM things ORDER BY id", params![])
        .await
        .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

const PARTS: Migration = Migration {
    version: 2,
    name: "0002_create_parts",
    sqlite: "CREATE TABLE parts (thing_id TEXT NOT NULL REFERENCES things (id), n BIGINT NOT NULL);",
    postgres: "CREATE TABLE parts (thing_id TEXT NOT NULL REFERENCES things (id), n BIGINT NOT NULL);",
};

/// A batch's statements run together and each says how many rows it changed; a row may
/// refer to one another statement of the batch inserts; one failing statement fails the
/// batch, and its transaction keeps nothing.
async fn a_batch_runs_its_statements_together(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    db.migrate(&[CREATE, PARTS]).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    insert(&mut tx, "a", 3).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    let mut batch = tx.batch();
    let thing = batch.execute(
        "INSERT INTO things (id, qty) VALUES ($1, $2)",
        params!["b", 1_i64],
    );
    let parts = batch.execute(
        "INSERT INTO parts (thing_id, n) VALUES ($1, $2), ($1, $3)",
        params!["b", 1_i64, 2_i64],
    );
    let taken = batch.execute(
        "UPDATE things SET qty = qty - $2 WHERE id = $1 AND qty >= $2",
        params!["a", 2_i64],
    );
    let not_there = batch.execute("DELETE FROM things WHERE id = $1", params!["z"]);
    let changed = tx.run(batch).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        [thing, parts, taken, not_there].map(|s| changed.rows(s)),
        [1, 2, 1, 0]
    );
    let (qty,): (i64,) = db
        .fetch_one("SELECT qty FROM things WHERE id = $1", params!["a"])
        .await
        .unwrap();
    assert_eq!(qty, 1);

    let mut tx = db.begin().await.unwrap();
    let mut batch = tx.batch();
    batch.execute(
        "INSERT INTO things (id, qty) VALUES ($1, $2)",
        params!["c", 1_i64],
    );
    batch.execute(
        "UPDATE things SET qty = qty - $2 WHERE id = $1",
        params!["a", 5_i64],
    );
    assert!(tx.run(batch).await.is_err(), "CHECK (qty >= 0) must hold");
    tx.rollback().await.unwrap();
    assert_eq!(ids(&db).await, ["a", "b"], "nothing of the failed batch");

    // A step whose rows the others read: PostgreSQL's alone.
    let mut tx = db.begin().await.unwrap();
    let mut batch = tx.batch();
    batch
        .returning(
            "raised",
            "UPDATE things SET qty = qty + $2 WHERE id = $1 RETURNING id, qty",
            params!["a", 10_i64],
        )
        .unwrap();
    let copied = batch.execute(
        "INSERT INTO parts (thing_id, n) SELECT id, qty FROM raised",
        params![],
    );
    match (db.dialect(), tx.run(batch).await) {
        (Dialect::Postgres, Ok(changed)) => assert_eq!(changed.rows(copied), 1),
        (Dialect::Sqlite, Err(Error::Batch(_))) => {}
        (dialect, other) => panic!("{dialect:?}: {other:?}"),
    }
}
backend_test!(batches, a_batch_runs_its_statements_together);

const TASKS: Migration = Migration {
    version: 3,
    name: "0003_create_tasks",
    sqlite: "CREATE TABLE tasks (id TEXT PRIMARY KEY, status TEXT NOT NULL, done_by TEXT);",
    postgres: "CREATE TABLE tasks (id TEXT PRIMARY KEY, status TEXT NOT NULL, done_by TEXT);",
};

/// A status move lands only from a status the row may leave, sets its other columns in the
/// same statement, and answers the row as it now is; the second of two racing moves finds
/// the row moved and changes nothing.
async fn a_status_moves_only_from_where_it_may(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    db.migrate(&[CREATE, PARTS, TASKS]).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO tasks (id, status) VALUES ($1, 'open'), ($2, 'held')",
        params!["t1", "t2"],
    )
    .await
    .unwrap();
    let start = StatusMove::new("tasks", "id", "t1", "open", "started").set("done_by", "ada");
    assert!(start.clone().run(&mut tx).await.unwrap());
    assert!(!start.run(&mut tx).await.unwrap(), "moved already");
    let finished: Option<(String, String, Option<String>)> =
        StatusMove::new("tasks", "id", "t1", "open", "done")
            .or_from("started")
            .returning(&mut tx, "id, status, done_by")
            .await
            .unwrap();
    assert_eq!(
        finished,
        Some(("t1".into(), "done".into(), Some("ada".into())))
    );
    let missing: Option<(String,)> = StatusMove::new("tasks", "id", "t9", "open", "done")
        .returning(&mut tx, "id")
        .await
        .unwrap();
    assert_eq!(missing, None);
    assert!(
        !StatusMove::new("tasks", "id", "t2", "open", "done")
            .run(&mut tx)
            .await
            .unwrap(),
        "held is not a status it may leave"
    );
    tx.commit().await.unwrap();
    let rows: Vec<(String, String)> = db
        .fetch_all("SELECT id, status FROM tasks ORDER BY id", params![])
        .await
        .unwrap();
    assert_eq!(
        rows,
        [("t1".into(), "done".into()), ("t2".into(), "held".into())]
    );
}
backend_test!(status_moves, a_status_moves_only_from_where_it_may);

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

/// A transaction cancelled while it was being opened (its request's client went away) leaves
/// the writer as the database left it: the transactions after it begin and commit.
async fn a_cancelled_begin_leaves_the_writer_usable(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    db.migrate(&[CREATE]).await.unwrap();
    for n in 0..20 {
        // Polled once and dropped: the opening statements were sent, their answer not read.
        let _ = tokio::time::timeout(std::time::Duration::ZERO, db.begin()).await;
        let mut tx = db.begin().await.unwrap();
        insert(&mut tx, &format!("c{n:02}"), 1).await.unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(ids(&db).await.len(), 20);
}
backend_test!(cancelled_begin, a_cancelled_begin_leaves_the_writer_usable);

/// Writes `id`; the writers whose `fails` is set also write a row the CHECK refuses, and
/// give their transaction up on that error, as a use case does with `?`.
async fn write(db: &Db, id: &str, fails: bool) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    insert(&mut tx, id, 1).await?;
    if fails {
        insert(&mut tx, &format!("{id}-bad"), -1).await?;
    }
    tx.commit().await
}

/// 200 transactions at once, every 10th failing: each caller gets its own outcome and
/// exactly the others are there.
async fn every_tenth_of_200_fails_alone(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    db.migrate(&[CREATE]).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..200 {
        let db = db.clone();
        tasks.spawn(async move {
            let outcome = write(&db, &format!("k{n:03}"), n % 10 == 9).await;
            (n, outcome.is_ok())
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (n, committed) = done.unwrap();
        assert_eq!(committed, n % 10 != 9, "transaction {n}'s own outcome");
    }
    let expected: Vec<String> = (0..200)
        .filter(|n| n % 10 != 9)
        .map(|n| format!("k{n:03}"))
        .collect();
    assert_eq!(ids(&db).await, expected);
}
backend_test!(group_failures, every_tenth_of_200_fails_alone);

const CHILD_DIR: &str = "ORDO_TEST_CHILD_DIR";
const CHILD_URL: &str = "ORDO_TEST_CHILD_URL";
const CHILD_PREFIX: &str = "ORDO_TEST_CHILD_PREFIX";
const COMMITTED: &str = "committed ";

/// The process `a_kill_mid_batch_loses_no_answered_transaction` kills: 200 writers, every
/// 10th failing, each printing the rows whose commit was answered, until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of the kill test, started by it"]
async fn writes_until_killed() {
    let dir = std::path::PathBuf::from(std::env::var(CHILD_DIR).expect("started by the kill test"));
    let backend = match std::env::var(CHILD_URL) {
        Ok(url) => Backend::Postgres {
            url,
            schema_prefix: std::env::var(CHILD_PREFIX).unwrap(),
        },
        Err(_) => Backend::Sqlite,
    };
    let db = open(&backend, &dir).await;
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..200 {
        let db = db.clone();
        writers.spawn(async move {
            for n in 0.. {
                let id = format!("w{writer:03}-{n}");
                if write(&db, &id, writer % 10 == 9).await.is_ok() {
                    println!("{COMMITTED}{id}");
                }
            }
        });
    }
    writers.join_next().await;
}

/// A `kill -9` while commit groups are in flight: after it, every transaction whose commit
/// was answered is there, and no failed one is.
async fn a_kill_mid_batch_loses_no_answered_transaction(backend: Backend) {
    use std::io::BufRead;
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    db.migrate(&[CREATE]).await.unwrap();
    db.close().await;

    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", "writes_until_killed", "--ignored", "--nocapture"])
        .env(CHILD_DIR, dir.path())
        .stdout(std::process::Stdio::piped());
    if let Backend::Postgres { url, schema_prefix } = &backend {
        child.env(CHILD_URL, url).env(CHILD_PREFIX, schema_prefix);
    }
    let mut child = child.spawn().unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let answered = tokio::task::spawn_blocking(move || {
        let mut answered = Vec::new();
        // Lines after the kill are answers given before it, still in the pipe.
        for line in stdout.lines() {
            if let Some(id) = line.unwrap().strip_prefix(COMMITTED) {
                answered.push(id.to_owned());
                if answered.len() == 2_000 {
                    child.kill().unwrap();
                }
            }
        }
        child.wait().unwrap();
        answered
    })
    .await
    .unwrap();
    assert!(
        answered.len() >= 2_000,
        "the child wrote before it was killed"
    );

    let db = open(&backend, dir.path()).await;
    let there: std::collections::HashSet<String> = ids(&db).await.into_iter().collect();
    let missing: Vec<&String> = answered.iter().filter(|id| !there.contains(*id)).collect();
    assert!(missing.is_empty(), "answered but lost: {missing:?}");
    let failed: Vec<&String> = there
        .iter()
        .filter(|id| id.starts_with('w') && id[1..4].parse::<u32>().unwrap() % 10 == 9)
        .collect();
    assert!(failed.is_empty(), "failed but there: {failed:?}");
}
backend_test!(
    kill_mid_batch,
    a_kill_mid_batch_loses_no_answered_transaction
);
