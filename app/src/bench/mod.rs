//! Benchmarks (not tests): each prints a table and writes JSON, with the machine it ran on.

pub mod bus;
pub mod delivery;
pub mod orders;

use crate::config::Config;
use anyhow::Context;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct Report<R> {
    pub machine: String,
    pub cores: usize,
    pub rows: Vec<R>,
}

impl<R: Serialize> Report<R> {
    pub fn new(rows: Vec<R>) -> Self {
        Report {
            machine: machine(),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            rows,
        }
    }

    /// Writes the report as JSON to `path`, creating its directory.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("\nwritten to {}", path.display());
        Ok(())
    }
}

/// The platform a measurement drives, in this process on `dir`: one address plays every
/// client (so the rate limits, which are for people, are off) and no line is logged per
/// request.
#[must_use]
pub fn embedded(dir: &Path) -> Config {
    let mut config = Config {
        listen: ([127, 0, 0, 1], 0).into(),
        data_dir: dir.to_path_buf(),
        log_level: "warn".into(),
        ..Config::default()
    };
    config.rate_limit.enabled = false;
    let generous = ordo_http::ratelimit::Quota {
        per_minute: 1_000_000_000,
        burst: 1_000_000,
    };
    config.identity.login_per_ip = generous;
    config.identity.login_per_account = generous;
    config.identity.login_per_account_and_ip = generous;
    config.delivery.location_limit = generous;
    config
}

fn machine() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}
