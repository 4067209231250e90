//! The web apps in a real browser: `web/tests/journeys.mjs` (playwright-core driving
//! Debian's chromium, with axe-core) against `ordo serve` on a fresh data dir with the demo
//! city loaded. It needs node, chromium and `web/tests/node_modules` (`.ci/run` installs
//! them); without them it says it was skipped, and under `CI=true` that is a failure.

mod support;

use ordo_testkit::Backend;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{listen, ordo, terminate};

/// What the journey signs its parcel carrier's scans with.
const CARRIER_SECRET: &str = "a carrier's shared secret";

fn chromium() -> PathBuf {
    std::env::var_os("ORDO_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What the run needs that is not there.
fn missing(web_tests: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_owned());
    }
    if !chromium().exists() {
        missing.push(format!("chromium at {}", chromium().display()));
    }
    for package in ["playwright-core", "axe-core"] {
        if !web_tests.join("node_modules").join(package).exists() {
            missing.push(format!("{package} (npm ci in web/tests)"));
        }
    }
    missing
}

#[test]
fn the_apps_work_in_a_browser() {
    let root = ordo_testkit::workspace_root();
    let web_tests = root.join("web").join("tests");
    let missing = missing(&web_tests);
    if !missing.is_empty() {
        let what = missing.join(", ");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "browser journeys cannot run under CI: missing {what}"
        );
        println!("skipped: the browser journeys need {what}");
        return;
    }
    let dir = ordo_testkit::temp_dir();
    let demo = ordo(&Backend::Sqlite, dir.path())
        .arg("demo")
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    // The mail relay is down until the journey starts it on this port: every email the
    // journey asks for becomes a dead letter for the console to replay, once its attempts
    // (retried within seconds here, not minutes) are spent.
    let smtp_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = ordo(&Backend::Sqlite, dir.path());
    command
        .env("ORDO_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
        .env("ORDO_BUS__RETRY_BASE_MS", "50")
        .env("ORDO_BUS__RETRY_MAX_MS", "1000")
        .env("ORDO_DELIVERY__CARRIER_WEBHOOK_SECRET", CARRIER_SECRET)
        // Offers that expire, and couriers asked again, within a journey's patience.
        .env("ORDO_DELIVERY__OFFER_SECS", "15")
        .env("ORDO_DELIVERY__REOFFER_AFTER_SECS", "5")
        // Every journey's people sign in from the same address, one after another.
        .env("ORDO_RATE_LIMIT__ANONYMOUS__PER_MINUTE", "600")
        .env("ORDO_RATE_LIMIT__ANONYMOUS__BURST", "200")
        .env("ORDO_IDENTITY__LOGIN_PER_IP__PER_MINUTE", "600")
        .env("ORDO_IDENTITY__LOGIN_PER_IP__BURST", "200")
        .env("ORDO_IDENTITY__LOGIN_PER_ACCOUNT__PER_MINUTE", "120")
        .env("ORDO_IDENTITY__LOGIN_PER_ACCOUNT__BURST", "60")
        .env("ORDO_IDENTITY__LOGIN_PER_ACCOUNT_AND_IP__PER_MINUTE", "60")
        .env("ORDO_IDENTITY__LOGIN_PER_ACCOUNT_AND_IP__BURST", "30");
    let (mut server, url) = listen(command);
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let out = target.join("web-tests");
    let run = Command::new("node")
        .arg("journeys.mjs")
        .current_dir(&web_tests)
        .env("ORDO_WEB_BASE", &url)
        .env(
            "ORDO_WEB_DEMO",
            String::from_utf8_lossy(&demo.stdout).as_ref(),
        )
        .env("ORDO_WEB_OUT", &out)
        .env("ORDO_WEB_SMTP_PORT", smtp_port.to_string())
        .env("ORDO_WEB_CARRIER_SECRET", CARRIER_SECRET)
        .env("ORDO_CHROMIUM", chromium())
        .output()
        .unwrap();
    println!("{}", String::from_utf8_lossy(&run.stdout));
    terminate(&mut server);
    assert!(
        run.status.success(),
        "the browser journeys failed (screenshots in {}):\n{}{}",
        out.display(),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
