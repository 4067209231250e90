//! The link to NATS JetStream and what its guard verifies: the stream. The bus starts
//! without the broker and connects when it comes; when the broker comes back without the
//! stream, the guard creates it again and re-sends the resend window (`link`).

use crate::BusError;
use crate::link::{self, Link, Signals, Verify};
use crate::options::BusOptions;
use crate::outbox::Outbox;
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::{self, ErrorCode, stream};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// How long the broker remembers message ids to drop repeats.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Shared by the relays, the consumers and the guard of one bus; cheap to clone.
#[derive(Clone)]
pub(crate) struct Broker {
    client: async_nats::Client,
    js: jetstream::Context,
    options: BusOptions,
    outboxes: Vec<Outbox>,
    signals: Signals,
}

impl Broker {
    /// Connects in the background: this returns at once, whether the broker is up or not.
    pub(crate) async fn connect(
        url: &str,
        options: &BusOptions,
        outboxes: Vec<Outbox>,
    ) -> Result<Broker, BusError> {
        let signals = Signals::new();
        let (events, health) = (signals.clone(), options.health.clone());
        let client = async_nats::ConnectOptions::new()
            .name("ordo")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .event_callback(move |event| {
                match event {
                    async_nats::Event::Disconnected => {
                        tracing::warn!("disconnected from NATS");
                        health.failing(&"disconnected from NATS");
                        events.suspect();
                    }
                    async_nats::Event::Connected => {
                        tracing::info!("connected to NATS");
                        events.suspect();
                    }
                    _ => {}
                }
                std::future::ready(())
            })
            .connect(url)
            .await
            .map_err(|e| BusError::Nats(format!("cannot connect: {e}")))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .build(client.clone());
        Ok(Broker {
            client,
            js,
            options: options.clone(),
            outboxes,
            signals,
        })
    }

    pub(crate) fn js(&self) -> &jetstream::Context {
        &self.js
    }

    /// The connection, for core subjects beside the stream.
    pub(crate) fn client(&self) -> async_nats::Client {
        self.client.clone()
    }

    /// The first token of every subject this bus uses.
    pub(crate) fn prefix(&self) -> &str {
        &self.options.subject_prefix
    }

    /// Publishing or pulling failed: hold everything until the guard has looked again.
    pub(crate) fn suspect(&self) {
        self.signals.suspect();
    }

    pub(crate) fn watch(&self) -> watch::Receiver<Link> {
        self.signals.watch()
    }

    pub(crate) fn signals(&self) -> &Signals {
        &self.signals
    }

    /// Keeps the stream there until `stop`.
    pub(crate) async fn guard(self, stop: watch::Receiver<bool>) {
        let (signals, options) = (self.signals.clone(), self.options.clone());
        let stream = Stream {
            broker: self,
            known: None,
        };
        signals
            .guard(stream, "the NATS stream", options, stop)
            .await;
    }

    /// Creates the stream, or updates it to the configured limits; returns when it was made.
    async fn create_or_update(&self) -> Result<OffsetDateTime, BusError> {
        let info = self
            .js
            .create_or_update_stream(stream::Config {
                name: self.options.stream.clone(),
                subjects: vec![format!("{}.>", self.options.subject_prefix)],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: self.options.stream_max_age,
                num_replicas: self.options.stream_replicas,
                duplicate_window: DUPLICATE_WINDOW,
                ..Default::default()
            })
            .await
            .map_err(|e| {
                BusError::Nats(format!(
                    "cannot create the stream {}: {e}",
                    self.options.stream
                ))
            })?;
        Ok(info.created)
    }
}

/// The stream as the guard knows it: when it was created.
struct Stream {
    broker: Broker,
    known: Option<OffsetDateTime>,
}

impl Verify for Stream {
    /// Finds the stream, or creates it; when it is not the one known before (or had to be
    /// created), re-sends the window.
    async fn verify(&mut self) -> Result<bool, BusError> {
        let broker = &self.broker;
        let name = &broker.options.stream;
        let (created, found) = match broker.js.get_stream(name).await {
            Ok(stream) if self.known.is_some() => (stream.cached_info().created, true),
            // At start, the configured limits are applied to the stream found.
            Ok(_) => (broker.create_or_update().await?, true),
            Err(error) => match error.kind() {
                GetStreamErrorKind::JetStream(error)
                    if error.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                {
                    (broker.create_or_update().await?, false)
                }
                _ => {
                    return Err(BusError::Nats(format!(
                        "cannot look at the stream {name}: {error}"
                    )));
                }
            },
        };
        if self.known == Some(created) {
            return Ok(false);
        }
        let renewed = self.known.is_some();
        if renewed {
            tracing::warn!(stream = %name, "the NATS stream was lost; sending recent events again");
            metrics::counter!("bus_stream_recreated_total").increment(1);
        } else if found {
            self.known = Some(created);
            return Ok(false);
        } else {
            // A first start, or a broker that lost the stream while this process was down.
            tracing::info!(stream = %name, "created the NATS stream; sending recent events to it");
        }
        for outbox in &broker.outboxes {
            link::resend(outbox, &broker.options).await?;
        }
        self.known = Some(created);
        Ok(renewed)
    }
}
