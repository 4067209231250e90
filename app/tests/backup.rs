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
use support::{listen, ordo, terminate};

const PASSPHRASE: &str = "correct horse battery staple";

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_orders_arrive_restores_every_acknowledged_one() {
    let dir = ordo_testkit::temp_dir();
    let (data, copy, restored) = (
        dir.path().join("data"),
        dir.path().join("backup"),
        dir.path().join("restored"),
    );
    std::fs::create_dir_all(&data).unwrap();
    let mut command = ordo(&Backend::Sqlite, &data);
    command.env("ORDO_RATE_LIMIT__ENABLED", "false");
    let (mut server, url) = listen(command);
    let client = reqwest::Client::new();
    let base = format!("{url}/api/v1");
    let shop = Arc::new(
        ordo_app::bench::shop::setup(&client, &base, 4, 10_000)
            .await
            .unwrap(),
    );
    let place = {
        let (client, base, shop) = (client.clone(), base.clone(), shop.clone());
        move |n: usize| {
            let (client, base, shop) = (client.clone(), base.clone(), shop.clone());
            async move {
                let customer = &shop.customers[n % shop.customers.len()];
                let key = format!("backup-{n}");
                let placed =
                    ordo_app::bench::shop::place(&client, &base, &shop.product, customer, key)
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
    assert!(taken.status.success(), "{}", text(&taken));
    assert!(text(&taken).contains("writes paused"), "{}", text(&taken));
    println!("{}; {during} orders placed meanwhile", text(&taken).trim());
    terminate(&mut server);

    let restored_output = restore(&restored, &copy, PASSPHRASE);
    assert!(
        restored_output.status.success(),
        "{}",
        text(&restored_output)
    );
    let (mut server, url) = listen(ordo(&Backend::Sqlite, &restored));
    for (order, token) in &acknowledged {
        let answer = client
            .get(format!("{url}/api/v1/orders/{order}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status(),
            reqwest::StatusCode::OK,
            "order {order}, acknowledged before the backup, after the restore"
        );
    }
    terminate(&mut server);
}

#[test]
fn damaged_partial_and_wrongly_sealed_backups_are_refused_and_nothing_is_written() {
    let dir = ordo_testkit::temp_dir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let demo = ordo(&Backend::Sqlite, &data).arg("demo").output().unwrap();
    assert!(demo.status.success(), "{}", text(&demo));
    let good = dir.path().join("good");
    let taken = backup(&data, &good);
    assert!(taken.status.success(), "{}", text(&taken));

    let refused = |from: &Path, passphrase: &str, why: &str| {
        let target = dir
            .path()
            .join(format!("restored-{}", uuid::Uuid::now_v7().simple()));
        let output = restore(&target, from, passphrase);
        assert!(!output.status.success(), "restored {}", from.display());
        assert!(text(&output).contains(why), "{why}: {}", text(&output));
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
    assert!(text(&occupied).contains("not empty"), "{}", text(&occupied));
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
        text(&unsealed).contains("ORDO_BACKUP_PASSPHRASE"),
        "{}",
        text(&unsealed)
    );

    let restored = dir.path().join("restored");
    let output = restore(&restored, &good, PASSPHRASE);
    assert!(output.status.success(), "{}", text(&output));
    assert!(restored.join("orders.db").exists());
    assert!(restored.join("keys").join("jwt-keys.json").exists());
}
