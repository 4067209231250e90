//! Every service has the same rooms, so that a reader finds a service's HTTP handlers
//! (`api/`), use cases (`app/`), rules (`domain/`), storage (`store/`) and events
//! (`events/consume.rs`, `events/publish.rs`) in the same places everywhere; and no service
//! builds on another's code: they meet only through HTTP (`remote.rs`) and events. A service's
//! rooms are its own: others see only what its `lib.rs` exports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every service's rooms.
const ROOMS: [&str; 6] = ["api", "app", "domain", "store", "events", "lib.rs"];
/// Rooms a service has when it needs them: its settings, and its client for the others.
const OPTIONAL: [&str; 2] = ["config.rs", "remote.rs"];
/// Adapters to the world outside Ordo, named for what they reach.
const ADAPTERS: [&str; 3] = ["mailer.rs", "sms.rs", "provider"];
const EVENT_FILES: [&str; 3] = ["mod.rs", "consume.rs", "publish.rs"];

fn services() -> Vec<PathBuf> {
    let root = ordo_testkit::workspace_root().join("services");
    let mut services: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("Cargo.toml").exists())
        .collect();
    services.sort();
    assert!(services.len() >= 11, "{services:?}");
    services
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn crate_name(service: &Path) -> String {
    format!("ordo_{}", service.file_name().unwrap().to_string_lossy())
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_service_has_the_same_rooms() {
    let mut wrong = Vec::new();
    for service in services() {
        let present = names(&service.join("src"));
        for room in ROOMS {
            if !present.contains(room) {
                wrong.push(format!("{}: no {room}", service.display()));
            }
        }
        for name in &present {
            let known = ROOMS
                .iter()
                .chain(&OPTIONAL)
                .chain(&ADAPTERS)
                .any(|room| room == name);
            if !known {
                wrong.push(format!(
                    "{}: {name} is not one of the rooms",
                    service.display()
                ));
            }
        }
        let events = names(&service.join("src/events"));
        for name in &events {
            if !EVENT_FILES.contains(&name.as_str()) {
                wrong.push(format!(
                    "{}: events/{name} (events are consume.rs and publish.rs)",
                    service.display()
                ));
            }
        }
        if !events.contains("consume.rs") && !events.contains("publish.rs") {
            wrong.push(format!(
                "{}: events/ neither consumes nor publishes",
                service.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_service_builds_on_another_services_code() {
    let services = services();
    let crates: Vec<String> = services.iter().map(|s| crate_name(s)).collect();
    let mut wrong = Vec::new();
    for service in &services {
        let own = crate_name(service);
        let others: Vec<&String> = crates.iter().filter(|c| **c != own).collect();
        let manifest = std::fs::read_to_string(service.join("Cargo.toml")).unwrap();
        for other in &others {
            if manifest
                .lines()
                .any(|line| line.trim_start().starts_with(other.as_str()))
            {
                wrong.push(format!("{own} depends on {other}"));
            }
        }
        let mut files = Vec::new();
        rust_files(&service.join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for other in &others {
                if text.contains(&format!("{other}::")) {
                    wrong.push(format!("{} uses {other}", file.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn only_lib_rs_is_public() {
    let mut wrong = Vec::new();
    for service in services() {
        let lib = service.join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        for (number, line) in text.lines().enumerate() {
            if line.trim().starts_with("pub mod ") {
                wrong.push(format!(
                    "{}:{}: {} (make it `mod` and re-export from lib.rs what others need)",
                    lib.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
