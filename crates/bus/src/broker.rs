//! The link to NATS JetStream and the guard that keeps the stream there. The bus starts
//! without the broker and connects when it comes; relays publish and consumers pull only
//! while the link is verified. When the broker comes back without the stream (its store
//! was lost, the cluster rebuilt), the guard creates it again, sends the events published
//! within the resend window once more (the lost store may have held them undelivered; the
//! inboxes drop what was handled), and moves to a new generation, at which the consumers
//! create their durable consumers again.

use crate::BusError;
use crate::options::BusOptions;
use crate::outbox::Outbox;
use crate::store;
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::{self, ErrorCode, stream};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};

/// How long the broker remembers message ids to drop repeats.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How often the guard looks at the stream while nothing seems wrong.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// What the bus knows of the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Not reachable, or not checked since something failed: publish nothing.
    Unverified,
    /// The stream is there. The generation grows each time it had to be created again.
    Ready(u64),
}

/// What the connection's events and the users of the link tell the guard.
struct Signals {
    link: watch::Sender<Link>,
    check: Notify,
}

impl Signals {
    /// Something failed: stop publishing until the guard has looked.
    fn suspect(&self) {
        self.link.send_if_modified(|link| {
            let changed = *link != Link::Unverified;
            *link = Link::Unverified;
            changed
        });
        self.check.notify_one();
    }
}

/// Shared by the relays, the consumers and the guard of one bus; cheap to clone.
#[derive(Clone)]
pub(crate) struct Broker {
    client: async_nats::Client,
    js: jetstream::Context,
    options: BusOptions,
    outboxes: Vec<Outbox>,
    signals: Arc<Signals>,
}

impl Broker {
    /// Connects in the background: this returns at once, whether the broker is up or not.
    pub(crate) async fn connect(
        url: &str,
        options: &BusOptions,
        outboxes: Vec<Outbox>,
    ) -> Result<Broker, BusError> {
        let (link, _) = watch::channel(Link::Unverified);
        let signals = Arc::new(Signals {
            link,
            check: Notify::new(),
        });
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
            .map_err(|e| BusError::Nats(format!("cannot connect to {url}: {e}")))?;
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

    /// Publishing or pulling failed: hold everything until the guard has looked again.
    pub(crate) fn suspect(&self) {
        self.signals.suspect();
    }

    pub(crate) fn watch(&self) -> watch::Receiver<Link> {
        self.signals.link.subscribe()
    }

    /// Keeps the stream there until `stop`: looks at it every few seconds and at once when
    /// something is suspected; creates it (and re-sends) when it is gone.
    pub(crate) async fn guard(self, mut stop: watch::Receiver<bool>) {
        // Nothing can be published until the stream is found.
        self.options
            .health
            .failing(&"the NATS stream is not verified yet");
        let mut known: Option<OffsetDateTime> = None;
        let mut generation = 0_u64;
        let mut failures = 0_u32;
        loop {
            if *stop.borrow() {
                return;
            }
            let wait = match self.verify(&mut known, &mut generation).await {
                Ok(()) => {
                    failures = 0;
                    self.options.health.working();
                    self.signals.link.send_if_modified(|link| {
                        let ready = Link::Ready(generation);
                        let changed = *link != ready;
                        *link = ready;
                        changed
                    });
                    CHECK_EVERY
                }
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "the NATS stream cannot be checked; retrying");
                    self.options.health.failing(&error);
                    self.signals.link.send_replace(Link::Unverified);
                    self.options.backoff(failures.min(4))
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.signals.check.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Finds the stream, or creates it; when it is not the one known before (or had to be
    /// created), re-sends the window and moves to a new generation.
    async fn verify(
        &self,
        known: &mut Option<OffsetDateTime>,
        generation: &mut u64,
    ) -> Result<(), BusError> {
        let name = &self.options.stream;
        let (created, found) = match self.js.get_stream(name).await {
            Ok(stream) if known.is_some() => (stream.cached_info().created, true),
            // At start, the configured limits are applied to the stream found.
            Ok(_) => (self.create_or_update().await?, true),
            Err(error) => match error.kind() {
                GetStreamErrorKind::JetStream(error)
                    if error.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                {
                    (self.create_or_update().await?, false)
                }
                _ => {
                    return Err(BusError::Nats(format!(
                        "cannot look at the stream {name}: {error}"
                    )));
                }
            },
        };
        if *known == Some(created) {
            return Ok(());
        }
        if known.is_some() {
            tracing::warn!(stream = %name, "the NATS stream was lost; sending recent events again");
            metrics::counter!("bus_stream_recreated_total").increment(1);
            self.resend().await?;
        } else if !found {
            // A first start, or a broker that lost the stream while this process was down.
            tracing::info!(stream = %name, "created the NATS stream; sending recent events to it");
            self.resend().await?;
        }
        *known = Some(created);
        *generation += 1;
        Ok(())
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

    /// Marks every event published within the resend window unpublished again, in every
    /// outbox of this process; the relays send them before anything newer.
    async fn resend(&self) -> Result<(), BusError> {
        let since = ordo_kernel::time::now() - self.options.resend_window;
        for outbox in &self.outboxes {
            let resent = store::republish(outbox.db(), since).await?;
            metrics::counter!("bus_resent_total", "service" => outbox.source().to_owned())
                .increment(resent);
            if resent > 0 {
                tracing::warn!(
                    source = outbox.source(),
                    resent,
                    "events sent again to a new stream"
                );
                outbox.wake();
            }
        }
        Ok(())
    }
}

/// Waits until the link is verified; returns its generation, or `None` when stopped.
pub(crate) async fn ready(
    link: &mut watch::Receiver<Link>,
    stop: &mut watch::Receiver<bool>,
) -> Option<u64> {
    loop {
        if let Link::Ready(generation) = *link.borrow_and_update() {
            return Some(generation);
        }
        if *stop.borrow() {
            return None;
        }
        tokio::select! {
            changed = link.changed() => if changed.is_err() { return None },
            _ = stop.changed() => {}
        }
    }
}
