//! The configuration: defaults < `ordo.toml` < `ORDO_*` environment variables < command-line
//! flags, one typed struct validated at start. Errors name the key and where it came from.
//! Nested keys use `__` in the environment: `ORDO_HTTP__BODY_LIMIT_BYTES=1048576`.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ordo_http::ratelimit::RateLimitConfig;
use ordo_identity::IdentityConfig;
use ordo_kernel::Secret;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_FILE: &str = "ordo.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the gateway listens.
    pub listen: SocketAddr,
    /// SQLite files and the signing keys live here.
    pub data_dir: PathBuf,
    /// `postgres://…` to store every service in PostgreSQL (one schema each).
    pub database_url: Option<Secret<String>>,
    /// Prefix of the PostgreSQL schemas (`{prefix}_{service}`); empty for bare names.
    pub database_schema_prefix: String,
    pub database_max_connections: u32,
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `ordo_identity=debug,info`; `RUST_LOG` wins.
    pub log_level: String,
    pub http: HttpConfig,
    pub rate_limit: RateLimitConfig,
    pub identity: IdentityConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
    pub header_read_timeout_secs: u64,
    /// Readiness fails this long before the listener closes on shutdown.
    pub drain_delay_secs: u64,
    /// In-flight requests get this long to finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Origins allowed to call the API from a browser; empty: no CORS.
    pub cors_origins: Vec<String>,
    /// Set when the platform is reached over HTTPS (directly or through a proxy); enables HSTS.
    pub tls: bool,
    /// Whether `/metrics` is public; when false only administrators may read it.
    pub metrics_public: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_schema_prefix: String::new(),
            database_max_connections: 8,
            log_format: LogFormat::Human,
            log_level: "info".into(),
            http: HttpConfig::default(),
            rate_limit: RateLimitConfig::default(),
            identity: IdentityConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit_bytes: 256 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            drain_delay_secs: 0,
            shutdown_grace_secs: 30,
            cors_origins: Vec::new(),
            tls: false,
            metrics_public: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Source(Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
}

/// Values given on the command line; they override every other source.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub log_format: Option<LogFormat>,
}

impl Config {
    /// Reads and validates the configuration. `file` is required to exist when given;
    /// otherwise `ordo.toml` is read if present.
    ///
    /// # Errors
    /// A message naming the bad key and its source.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file(DEFAULT_FILE)),
        }
        let env = Env::prefixed("ORDO_")
            .split("__")
            .filter(|key| key != "config");
        let mut config: Config = figment
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Source(Box::new(e)))?;
        if let Some(dir) = &overrides.data_dir {
            config.data_dir.clone_from(dir);
        }
        if let Some(listen) = overrides.listen {
            config.listen = listen;
        }
        if let Some(format) = overrides.log_format {
            config.log_format = format;
        }
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    /// # Errors
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.database_url {
            let url = url.expose();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(
                    "database_url: must be a postgres:// URL (leave unset for SQLite)".into(),
                );
            }
        }
        if !self
            .database_schema_prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(
                "database_schema_prefix: use lowercase letters, digits and underscores".into(),
            );
        }
        if !(1..=256).contains(&self.database_max_connections) {
            return Err("database_max_connections: must be between 1 and 256".into());
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.http.body_limit_bytes) {
            return Err("http.body_limit_bytes: must be between 1024 and 67108864".into());
        }
        for (key, value) in [
            ("http.request_timeout_secs", self.http.request_timeout_secs),
            (
                "http.header_read_timeout_secs",
                self.http.header_read_timeout_secs,
            ),
            ("http.shutdown_grace_secs", self.http.shutdown_grace_secs),
        ] {
            if !(1..=3600).contains(&value) {
                return Err(format!("{key}: must be between 1 and 3600"));
            }
        }
        for origin in &self.http.cors_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || axum::http::HeaderValue::from_str(origin).is_err()
            {
                return Err(format!(
                    "http.cors_origins: `{origin}` is not an origin like https://shop.example"
                ));
            }
        }
        for role in ordo_kernel::Role::ALL {
            self.rate_limit
                .quota(role)
                .validate()
                .map_err(|e| format!("rate_limit.{role}: {e}"))?;
        }
        self.rate_limit
            .anonymous
            .validate()
            .map_err(|e| format!("rate_limit.anonymous: {e}"))?;
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .map_err(|e| format!("log_level: {e}"))?;
        self.identity.validate()
    }

    /// The signing-key file: configured, or under the data dir.
    #[must_use]
    pub fn keys_file(&self) -> PathBuf {
        self.identity
            .keys_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys").join("jwt-keys.json"))
    }

    #[must_use]
    pub fn db_options(&self) -> ordo_db::DbOptions {
        ordo_db::DbOptions {
            data_dir: self.data_dir.clone(),
            url: self.database_url.clone(),
            schema_prefix: self.database_schema_prefix.clone(),
            max_connections: self.database_max_connections,
            acquire_timeout: std::time::Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_hide_secrets() {
        let mut config = Config::default();
        config.validate().unwrap();
        config.database_url = Some(Secret::new("postgres://u:hunter2@db/ordo".into()));
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&config).unwrap().contains("hunter2"));
    }

    #[test]
    fn a_bad_file_value_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ordo.toml");
        std::fs::write(&path, "[http]\nbody_limit_bytes = \"lots\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("body_limit_bytes"), "{error}");

        std::fs::write(&path, "[http]\nbody_limit_bytes = 10\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("http.body_limit_bytes"), "{error}");

        std::fs::write(&path, "colour = \"blue\"\n").unwrap();
        let error = Config::load(Some(&path), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("colour"), "{error}");
    }
}
