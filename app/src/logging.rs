//! Log output: human-readable by default, JSON lines with `--log-format json`; spans
//! exported over OTLP when `otlp_endpoint` is set. `RUST_LOG` overrides the configured level.

use crate::config::{Config, LogFormat};
use ordo_telemetry::{Settings, Telemetry, TelemetryError};

/// The telemetry settings `config` asks for.
#[must_use]
pub fn settings(config: &Config) -> Settings {
    Settings {
        filter: config.log_level.clone(),
        json: config.log_format == LogFormat::Json,
        otlp_endpoint: config.otlp_endpoint.clone(),
        service_name: "ordo".into(),
    }
}

/// Installs logging (and span export) for the process; keep the answer until it ends.
///
/// # Errors
/// An OTLP endpoint the exporter cannot use.
pub fn init(config: &Config) -> Result<Telemetry, TelemetryError> {
    ordo_telemetry::init(&settings(config))
}
