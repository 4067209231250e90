//! `ordo backup` of the embedded platform while it takes orders, and `ordo restore` into a
//! new data dir: every order acknowledged before the backup began is there afterwards, and
//! the tokens signed before it still work (the signing keys came back). Damaged, partial and
//! wrongly sealed backups are refused with a non-zero exit, and nothing is written.

mod support;

use ordo_testkit::Backend;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use support::{Server, listen, ordo, terminate};

const PASSPHRASE: &str = "correct horse battery staple";

/// `ordo` on `data_dir` with the backup passphrase `passphrase`.
fn sealed_with(data_dir: &Path, passphrase: &str) -> Command {
    let mut command = ordo(&Backend::Sqlite, data_dir);
    command.env("ORDO_BACKUP_PASSPHRASE", passphrase);
    command
}

fn backup(data_dir: &Path, to: &Path) -> Output {
    sealed_with(data_dir, PASSPHRASE)
        .arg("backup")
        .arg("--to")
        .arg(to)
        .output()
        .unwrap()
}

fn restore(data_dir: &Path, from: &Path, passphrase: &str) -> Output {
    sealed_with(data_dir, passphrase)
        // The data dir is not there yet: a restore makes it.
        .current_dir(data_dir.parent().unwrap())
        .arg("restore")
        .arg("--from")
        .arg(from)
        .output()
        .unwrap()
}

/// The embedded platform on `data`, serving a shop with stock and four customers with
/// cards: the server, a client, the API's base URL and the shop.
async fn serving_a_shop(
    data: &Path,
) -> (Server, reqwest::Client, String, ordo_app::bench::shop::Shop) {
    std::fs::create_dir_all(data).unwrap();
    let mut command = ordo(&Backend::Sqlite, data);
    command.env("ORDO_RATE_LIMIT__ENABLED", "false");
    let (server, url) = listen(command);
    let client = reqwest::Client::new();
    let base = format!("{url}/api/v1");
    let shop = ordo_app::bench::shop::setup(&client, &base, 4, (10_000, 1), 1)
        .await
        .unwrap();
    (server, client, base, shop)
}

/// The platform started on the restored `data` serves every one of `orders` to its
/// customer, whose token was signed before the restore.
async fn serves_every_order(
    data: &Path,
    client: &reqwest::Client,
    orders: &[(uuid::Uuid, String)],
) {
    let (mut server, url) = listen(ordo(&Backend::Sqlite, data));
    let base = format!("{url}/api/v1");
    assert_eq!(
        ordo_app::bench::shop::served(client, &base, orders).await,
        orders.len(),
        "every order acknowledged before the loss, after the restore"
    );
    terminate(&mut server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_orders_arrive_restores_every_acknowledged_one() {
    let dir = ordo_testkit::temp_dir();
    let (data, copy, restored) = (
        dir.path().join("data"),
        dir.path().join("backup"),
        dir.path().join("restored"),
    );
    let (mut server, client, base, shop) = serving_a_shop(&data).await;
    let shop = Arc::new(shop);
    let place = {
        let (client, base, shop) = (client.clone(), base.clone(), shop.clone());
        move |n: usize| {
            let (client, base, shop) = (client.clone(), base.clone(), shop.clone());
            async move {
                let customer = &shop.customers[n % shop.customers.len()];
                let key = format!("backup-{n}");
                let placed =
                    ordo_app::bench::shop::place(&client, &base, shop.product(), customer, key)
                        .await;
                placed.map(|id| (id, customer.0.clone()))
            }
        }
    };
    let mut acknowledged = Vec::new();
    for n in 0..20 {
        acknowledged.push(place(n).await.expect("an order before the backup"));
    }
    // Orders keep arriving while the backup runs: it must not stop them, and what it
    // copies must be one moment of every service.
    let running = Arc::new(AtomicBool::new(true));
    let arriving = tokio::spawn({
        let running = running.clone();
        async move {
            let mut n = 1000;
            let mut during = 0;
            while running.load(Ordering::SeqCst) {
                during += usize::from(place(n).await.is_some());
                n += 1;
            }
            during
        }
    });
    let (data_dir, to) = (data.clone(), copy.clone());
    let taken = tokio::task::spawn_blocking(move || backup(&data_dir, &to))
        .await
        .unwrap();
    running.store(false, Ordering::SeqCst);
    let during = arriving.await.unwrap();
    assert!(taken.status.success(), "{}", ordo_testkit::printed(&taken));
    assert!(
        ordo_testkit::printed(&taken).contains("writes paused"),
        "{}",
        ordo_testkit::printed(&taken)
    );
    println!(
        "{}; {during} orders placed meanwhile",
        ordo_testkit::printed(&taken).trim()
    );
    terminate(&mut server);

    let restored_output = restore(&restored, &copy, PASSPHRASE);
    assert!(
        restored_output.status.success(),
        "{}",
        ordo_testkit::printed(&restored_output)
    );
    serves_every_order(&restored, &client, &acknowledged).await;
}

#[test]
fn damaged_partial_and_wrongly_sealed_backups_are_refused_and_nothing_is_written() {
    let dir = ordo_testkit::temp_dir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let demo = ordo(&Backend::Sqlite, &data).arg("demo").output().unwrap();
    assert!(demo.status.success(), "{}", ordo_testkit::printed(&demo));
    let good = dir.path().join("good");
    let taken = backup(&data, &good);
    assert!(taken.status.success(), "{}", ordo_testkit::printed(&taken));

    let refused = |from: &Path, passphrase: &str, why: &str| {
        let target = dir
            .path()
            .join(format!("restored-{}", uuid::Uuid::now_v7().simple()));
        let output = restore(&target, from, passphrase);
        assert!(!output.status.success(), "restored {}", from.display());
        assert!(
            ordo_testkit::printed(&output).contains(why),
            "{why}: {}",
            ordo_testkit::printed(&output)
        );
        assert!(!target.exists(), "nothing is written for a refused backup");
    };
    let copy_of_good = |name: &str| {
        let to = dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&good).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
        to
    };

    refused(&good, "another long passphrase", "does not open");
    let damaged = copy_of_good("damaged");
    let mut bytes = std::fs::read(damaged.join("orders.db")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(damaged.join("orders.db"), bytes).unwrap();
    refused(&damaged, PASSPHRASE, "damaged: orders.db");
    let partial = copy_of_good("partial");
    std::fs::remove_file(partial.join("catalog.db")).unwrap();
    refused(&partial, PASSPHRASE, "partial: catalog.db is missing");
    let unfinished = copy_of_good("unfinished");
    std::fs::remove_file(unfinished.join("manifest.json")).unwrap();
    refused(&unfinished, PASSPHRASE, "not a complete backup");

    let occupied = restore(&data, &good, PASSPHRASE);
    assert!(!occupied.status.success());
    assert!(
        ordo_testkit::printed(&occupied).contains("not empty"),
        "{}",
        ordo_testkit::printed(&occupied)
    );
    let again = backup(&data, &good);
    assert!(
        !again.status.success(),
        "a backup never writes over another"
    );
    let unsealed = ordo(&Backend::Sqlite, &data)
        .arg("backup")
        .arg("--to")
        .arg(dir.path().join("unsealed"))
        .output()
        .unwrap();
    assert!(!unsealed.status.success());
    assert!(
        ordo_testkit::printed(&unsealed).contains("ORDO_BACKUP_PASSPHRASE"),
        "{}",
        ordo_testkit::printed(&unsealed)
    );

    let restored = dir.path().join("restored");
    let output = restore(&restored, &good, PASSPHRASE);
    assert!(
        output.status.success(),
        "{}",
        ordo_testkit::printed(&output)
    );
    assert!(restored.join("orders.db").exists());
    assert!(restored.join("keys").join("jwt-keys.json").exists());
}

/// Restores `database` (one of `config`'s) into `to` with Litestream.
fn litestream_restore(litestream: &str, config: &Path, database: &Path, to: &Path) -> Output {
    Command::new(litestream)
        .arg("restore")
        .arg("-config")
        .arg(config)
        .arg("-o")
        .arg(to)
        .arg(database)
        .output()
        .unwrap()
}

/// How many of `orders` the orders database at `path` holds.
async fn orders_in(path: &Path, orders: &[(uuid::Uuid, String)]) -> usize {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut found = 0;
    for (order, _) in orders {
        let count: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM orders WHERE id = ?1",
                [order.to_string()],
                |row| row.get(0),
            )
            .unwrap();
        found += usize::try_from(count).unwrap();
    }
    found
}

/// Litestream replicating every database to a directory while orders arrive; the machine
/// lost; every database restored from the replicas: every order acknowledged and
/// replicated is there, served by the platform started on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litestream_replicas_restore_every_acknowledged_order() {
    let test = "litestream_replicas_restore_every_acknowledged_order";
    let Some(litestream) = ordo_testkit::required("TEST_LITESTREAM", "Litestream", test) else {
        return;
    };
    let dir = ordo_testkit::temp_dir();
    let (data, replicas, restored) = (
        dir.path().join("data"),
        dir.path().join("replicas"),
        dir.path().join("restored"),
    );
    let (server, client, base, shop) = serving_a_shop(&data).await;

    let mut databases: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".db"))
        .collect();
    databases.sort();
    let config = dir.path().join("litestream.yml");
    let mut yaml = String::from("dbs:\n");
    for name in &databases {
        yaml.push_str(&format!(
            "  - path: {}\n    replicas:\n      - url: file://{}\n",
            data.join(name).display(),
            replicas.join(name).display()
        ));
    }
    std::fs::write(&config, yaml).unwrap();
    let replicating = Server(
        Command::new(&litestream)
            .arg("replicate")
            .arg("-config")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );

    let mut acknowledged = Vec::new();
    for n in 0..30 {
        let customer = &shop.customers[n % shop.customers.len()];
        let key = format!("litestream-{n}");
        let id = ordo_app::bench::shop::place(&client, &base, shop.product(), customer, key)
            .await
            .expect("an order");
        acknowledged.push((id, customer.0.clone()));
    }
    // Replication runs a second behind at most: read the replicas back until every
    // database has one (before its first sync there is nothing to restore) and the orders'
    // holds every acknowledged order.
    let probe = dir.path().join("probe.db");
    let started = std::time::Instant::now();
    let mut waiting: Vec<&String> = databases.iter().collect();
    loop {
        let mut still = Vec::new();
        for name in waiting {
            let _ = std::fs::remove_file(&probe);
            let read = litestream_restore(&litestream, &config, &data.join(name), &probe);
            let caught_up = read.status.success()
                && (name != "orders.db"
                    || orders_in(&probe, &acknowledged).await == acknowledged.len());
            if !caught_up {
                still.push(name);
            }
        }
        waiting = still;
        if waiting.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the replicas of {waiting:?} did not catch up within a minute"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // The machine is lost: the process killed, its data dir gone. The signing keys come
    // from where operators keep them (a Secret, the last `ordo backup`).
    let keys = std::fs::read(data.join("keys").join("jwt-keys.json")).unwrap();
    drop(server);
    drop(replicating);
    std::fs::remove_dir_all(&data).unwrap();

    std::fs::create_dir_all(restored.join("keys")).unwrap();
    std::fs::write(restored.join("keys").join("jwt-keys.json"), keys).unwrap();
    for name in &databases {
        let output =
            litestream_restore(&litestream, &config, &data.join(name), &restored.join(name));
        assert!(
            output.status.success(),
            "{name}: {}",
            ordo_testkit::printed(&output)
        );
    }
    serves_every_order(&restored, &client, &acknowledged).await;
}
