//! What the platform says about itself while it runs: log lines, human or JSON, and — when
//! an OTLP endpoint is configured — the spans of requests, event handlers and provider
//! requests exported over OTLP/HTTP. Also the one answer to "where in its trace does this
//! span stand", which HTTP and the bus put into the events they publish, so that an
//! exported handler span's parent is a span that was exported too.

mod lines;
mod place;

pub use place::{current, join};

use opentelemetry::trace::TracerProvider;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How often finished spans are sent: soon enough that an operator watching a live order
/// sees its handlers, seldom enough to batch them.
const EXPORT_EVERY: Duration = Duration::from_secs(1);

/// Which spans are exported: the platform's own, at `info` and above (requests, event
/// handlers, provider requests, sweeps), whatever the log level.
const EXPORTED: &str = "info";

#[derive(Debug, Clone)]
pub struct Settings {
    /// A tracing filter for the log lines, e.g. `info` or `ordo_identity=debug,info`.
    pub filter: String,
    pub json: bool,
    /// Base URL of an OTLP/HTTP collector (`http://host:4318`); spans go to `/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` the exported spans carry.
    pub service_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("log filter: {0}")]
    Filter(String),
    #[error("otlp_endpoint: {0}")]
    Exporter(String),
}

/// Keeps span export running; dropping it sends the spans still waiting.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("the last spans could not be exported: {error}");
        }
    }
}

/// Installs the process's subscriber, writing log lines to standard error. A second call
/// (tests start several platforms in one process) leaves the first one in place.
///
/// # Errors
/// A malformed filter, or an OTLP endpoint the exporter cannot use.
pub fn init(settings: &Settings) -> Result<Telemetry, TelemetryError> {
    init_with_writer(settings, std::io::stderr)
}

/// [`init`], writing log lines to `writer`.
///
/// # Errors
/// As [`init`].
pub fn init_with_writer<W>(settings: &Settings, writer: W) -> Result<Telemetry, TelemetryError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = || {
        EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(&settings.filter))
            .map_err(|error| TelemetryError::Filter(error.to_string()))
    };
    let lines = tracing_subscriber::fmt::layer().with_writer(writer);
    let (lines, correlate) = if settings.json {
        let json = tracing_subscriber::fmt::format()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true);
        (
            lines
                .json()
                .event_format(lines::Lifted(json))
                .with_filter(filter()?)
                .boxed(),
            Some(lines::Correlate.with_filter(filter()?)),
        )
    } else {
        (lines.with_filter(filter()?).boxed(), None)
    };
    let provider = settings
        .otlp_endpoint
        .as_deref()
        .map(|endpoint| provider(endpoint, &settings.service_name))
        .transpose()?;
    let spans = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("ordo"))
            .with_filter(EnvFilter::new(EXPORTED))
    });
    let installed = tracing_subscriber::registry()
        .with(lines)
        .with(correlate)
        .with(spans)
        .try_init()
        .is_ok();
    Ok(Telemetry {
        provider: provider.filter(|_| installed),
    })
}

fn provider(endpoint: &str, service_name: &str) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()
        .map_err(|error| TelemetryError::Exporter(error.to_string()))?;
    let batches = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(EXPORT_EVERY)
                .build(),
        )
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(batches)
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build())
}
