//! PostgreSQL backed up with pgBackRest and restored to a point in time on a second cluster,
//! as docs/RUNBOOK.md describes: a full backup, orders after it, a moment noted, orders after
//! that; the restore to the moment has every order acknowledged before it and none after.
//!
//! The test makes its own clusters (the PostgreSQL binaries in `TEST_PG_BIN`) and repository
//! (`pgbackrest` at `TEST_PGBACKREST`), on ports of its own, run as the `postgres` user when
//! the test runs as root (PostgreSQL refuses root).

mod support;

use ordo_app::bench::shop::served;
use ordo_testkit::Backend;
use std::path::PathBuf;
use std::process::Command;
use support::{Server, listen, ordo, terminate};

const STANZA: &str = "ordo";

/// `program` as the user PostgreSQL runs as: `postgres` when the test runs as root.
fn as_postgres(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|id| String::from_utf8_lossy(&id.stdout).trim() == "0");
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        ordo_testkit::printed(&output)
    );
    ordo_testkit::printed(&output)
}

/// A PostgreSQL cluster of the test's own, archiving its WAL to pgBackRest.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Cluster {
    fn pg_ctl(&self, action: &str) {
        run(as_postgres(self.bin.join("pg_ctl"))
            .args(["-w", "-t", "120", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.with_extension("log"))
            .arg(action));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn sql(&self, query: &str) -> String {
        run(as_postgres(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-Atq",
                "-p",
            ])
            .arg(self.port.to_string())
            .args(["-c", query]))
        .trim()
        .to_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_postgres(self.bin.join("pg_ctl"))
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// Places `n` orders through the platform at `base`, keys starting with `tag`.
async fn place(
    client: &reqwest::Client,
    base: &str,
    shop: &ordo_app::bench::shop::Shop,
    tag: &str,
    n: usize,
) -> Vec<(uuid::Uuid, String)> {
    let mut placed = Vec::new();
    for i in 0..n {
        let customer = &shop.customers[i % shop.customers.len()];
        let key = format!("{tag}-{i}");
        let id = ordo_app::bench::shop::place(client, base, shop.product(), customer, key)
            .await
            .expect("an order");
        placed.push((id, customer.0.clone()));
    }
    placed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbackrest_restores_to_a_point_in_time_with_every_order_before_it() {
    let test = "pgbackrest_restores_to_a_point_in_time_with_every_order_before_it";
    let (Some(bin), Some(pgbackrest)) = (
        ordo_testkit::required("TEST_PG_BIN", "PostgreSQL's binaries", test),
        ordo_testkit::required("TEST_PGBACKREST", "pgBackRest", test),
    ) else {
        return;
    };
    let bin = PathBuf::from(bin);
    let dir = ordo_testkit::temp_dir();
    let work = dir.path();
    run(Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(work));
    let conf = work.join("pgbackrest.conf");
    let primary = Cluster {
        bin: bin.clone(),
        data: work.join("primary"),
        port: ordo_testkit::free_port(),
    };
    std::fs::write(
        &conf,
        format!(
            "[global]\nrepo1-path={repo}\nrepo1-retention-full=2\nlog-path={work}\n\
             lock-path={work}\nlog-level-console=warn\nstart-fast=y\n\n\
             [{STANZA}]\npg1-path={data}\npg1-port={port}\npg1-socket-path={work}\n",
            repo = work.join("repo").display(),
            work = work.display(),
            data = primary.data.display(),
            port = primary.port,
        ),
    )
    .unwrap();
    run(as_postgres(bin.join("initdb"))
        .args(["--auth=trust", "--username=postgres", "-D"])
        .arg(&primary.data));
    let archive = format!(
        "{pgbackrest} --config={} --stanza={STANZA} archive-push %p",
        conf.display()
    );
    std::fs::write(
        primary.data.join("postgresql.auto.conf"),
        format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{work}'\n\
             wal_level = replica\narchive_mode = on\narchive_command = '{archive}'\n\
             max_connections = 200\n",
            port = primary.port,
            work = work.display(),
        ),
    )
    .unwrap();
    run(Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(work));
    primary.pg_ctl("start");
    let pgbackrest = |args: &[&str]| {
        run(as_postgres(&pgbackrest)
            .arg(format!("--config={}", conf.display()))
            .arg(format!("--stanza={STANZA}"))
            .args(args))
    };
    pgbackrest(&["stanza-create"]);
    pgbackrest(&["check"]);

    let backend = Backend::Postgres {
        url: primary.url(),
        schema_prefix: String::new(),
    };
    let data_dir = work.join("ordo");
    std::fs::create_dir_all(&data_dir).unwrap();
    let serve = || {
        let mut command = ordo(&backend, &data_dir);
        command.env("ORDO_RATE_LIMIT__ENABLED", "false");
        command
    };
    let (mut server, url) = listen(serve());
    let client = reqwest::Client::new();
    let base = format!("{url}/api/v1");
    let shop = ordo_app::bench::shop::setup(&client, &base, 4, (10_000, 1), 1)
        .await
        .unwrap();
    let before_backup = place(&client, &base, &shop, "pitr-a", 10).await;
    pgbackrest(&["--type=full", "backup"]);
    let after_backup = place(&client, &base, &shop, "pitr-b", 10).await;
    // pgBackRest keeps the backup's end to the second and restores only to a moment after
    // it: the moment comes in a later second.
    let info: serde_json::Value =
        serde_json::from_str(&pgbackrest(&["--output=json", "info"])).unwrap();
    let stopped = info[0]["backup"][0]["timestamp"]["stop"]
        .as_i64()
        .expect("the backup's end");
    let query = format!("SELECT floor(extract(epoch FROM clock_timestamp()))::bigint > {stopped}");
    while primary.sql(&query) != "t" {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The moment to restore to, on the server's clock.
    let moment = primary.sql(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'",
    );
    let too_late = place(&client, &base, &shop, "pitr-c", 10).await;
    terminate(&mut server);
    // Every WAL segment up to the last order is in the repository before the primary goes.
    primary.sql("SELECT pg_switch_wal()");
    pgbackrest(&["check"]);
    drop(primary);

    let restored = Cluster {
        bin: bin.clone(),
        data: work.join("restored"),
        port: ordo_testkit::free_port(),
    };
    std::fs::create_dir_all(&restored.data).unwrap();
    run(Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(work));
    pgbackrest(&[
        &format!("--pg1-path={}", restored.data.display()),
        "--type=time",
        &format!("--target={moment}"),
        "--target-action=promote",
        "restore",
    ]);
    let settings = restored.data.join("postgresql.auto.conf");
    let mut auto = std::fs::read_to_string(&settings).unwrap();
    auto = auto.replace(
        &format!("port = {}", primary_port(&auto)),
        &format!("port = {}", restored.port),
    );
    // The restored cluster archives nowhere: the repository stays the primary's.
    auto.push_str("archive_mode = off\n");
    std::fs::write(&settings, auto).unwrap();
    restored.pg_ctl("start");
    let started = std::time::Instant::now();
    while restored.sql("SELECT pg_is_in_recovery()") != "f" {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the restored cluster did not finish recovery"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    let backend = Backend::Postgres {
        url: restored.url(),
        schema_prefix: String::new(),
    };
    let mut command = ordo(&backend, &data_dir);
    command.env("ORDO_RATE_LIMIT__ENABLED", "false");
    let (mut server, url): (Server, String) = listen(command);
    let acknowledged: Vec<_> = before_backup.into_iter().chain(after_backup).collect();
    assert_eq!(
        served(&client, &format!("{url}/api/v1"), &acknowledged).await,
        acknowledged.len(),
        "every order acknowledged before {moment}"
    );
    assert_eq!(
        served(&client, &format!("{url}/api/v1"), &too_late).await,
        0,
        "no order placed after {moment}"
    );
    terminate(&mut server);
}

/// The `port = N` line's N in a postgresql.auto.conf.
fn primary_port(settings: &str) -> String {
    settings
        .lines()
        .find_map(|line| line.strip_prefix("port = "))
        .expect("a port setting")
        .trim()
        .to_owned()
}
