//! Assembling the bus: outboxes and subscriptions are registered, then `start` runs the
//! relays, the consumers and their housekeeping until `stop`.

use crate::BusError;
use crate::ack::Delivery;
use crate::consumer::{self, ConsumerStats};
use crate::echoes::Echoes;
use crate::embedded::{self, Route};
use crate::handler::Subscription;
use crate::options::{Backend, BusOptions};
use crate::outbox::Outbox;
use crate::{kafka, nats, relay, store};
use ordo_db::Db;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// How often retention is enforced and the backlog gauges are refreshed.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(5);
const PURGE_EVERY: u32 = 12;

pub struct Bus {
    options: BusOptions,
    outboxes: Vec<Outbox>,
    subscriptions: Vec<(Subscription, Arc<ConsumerStats>)>,
    echoes: Echoes,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field(
                "backend",
                &self
                    .options
                    .backend()
                    .map_or("invalid", |backend| backend.name()),
            )
            .field("outboxes", &self.outboxes)
            .field(
                "subscriptions",
                &self
                    .subscriptions
                    .iter()
                    .map(|(s, _)| &s.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Bus {
    /// A bus with `options`; through a broker, it is not ready until the broker is reached.
    #[must_use]
    pub fn new(options: BusOptions) -> Self {
        if options.url.is_some() {
            options.health.awaiting_broker();
        }
        Self {
            options,
            outboxes: Vec::new(),
            subscriptions: Vec::new(),
            echoes: Echoes::default(),
        }
    }

    /// The wake-ups this process sends to and hears from the others, through the broker
    /// once the bus has started.
    #[must_use]
    pub fn echoes(&self) -> Echoes {
        self.echoes.clone()
    }

    #[must_use]
    pub fn options(&self) -> &BusOptions {
        &self.options
    }

    /// The outbox of service `source`; its events are relayed once the bus starts.
    pub fn outbox(&mut self, source: &str, db: Db) -> Outbox {
        if let Some(existing) = self.outboxes.iter().find(|o| o.source() == source) {
            return existing.clone();
        }
        let outbox = Outbox::new(source, db);
        self.outboxes.push(outbox.clone());
        outbox
    }

    /// Registers a consumer. Its counters are returned for tests and benchmarks.
    ///
    /// # Errors
    /// An invalid name or event type, or a name already taken.
    pub fn subscribe(&mut self, sub: Subscription) -> Result<Arc<ConsumerStats>, BusError> {
        sub.validate().map_err(BusError::InvalidSubscription)?;
        if self.subscriptions.iter().any(|(s, _)| s.name == sub.name) {
            return Err(BusError::InvalidSubscription(format!(
                "two subscriptions are named `{}`",
                sub.name
            )));
        }
        let stats = Arc::new(ConsumerStats::default());
        self.subscriptions.push((sub, stats.clone()));
        Ok(stats)
    }

    /// Starts the tasks of one consumer and returns where to send its deliveries.
    fn start_consumer(
        &self,
        tasks: &mut JoinSet<()>,
        sub: &Subscription,
        stats: &Arc<ConsumerStats>,
        stop: &watch::Receiver<bool>,
    ) -> mpsc::Sender<Delivery> {
        let (input, rx) = mpsc::channel::<Delivery>(self.options.batch_size.max(1) * 4);
        consumer::spawn(
            tasks,
            sub.clone(),
            self.options.clone(),
            stats.clone(),
            rx,
            stop.clone(),
        );
        input
    }

    /// Starts relaying and consuming. With a broker, it need not be reachable yet.
    ///
    /// # Errors
    /// An invalid bus URL, or Kafka settings librdkafka refuses.
    pub async fn start(self) -> Result<RunningBus, BusError> {
        let (stop_tx, stop) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let holder = ordo_kernel::id::new_id().to_string();
        let mut stats = HashMap::new();
        let mut consumer_dbs: Vec<Db> = Vec::new();

        let backend = self.options.backend()?;
        match backend {
            Backend::Embedded => {
                let mut routes = Vec::new();
                for (sub, sub_stats) in &self.subscriptions {
                    routes.push(Route {
                        sources: sub.sources().into_iter().map(str::to_owned).collect(),
                        input: self.start_consumer(&mut tasks, sub, sub_stats, &stop),
                    });
                }
                let routes = Arc::new(routes);
                for outbox in &self.outboxes {
                    tasks.spawn(embedded::relay(
                        outbox.clone(),
                        routes.clone(),
                        self.options.clone(),
                        holder.clone(),
                        stop.clone(),
                    ));
                }
            }
            Backend::Nats(url) => {
                // The broker may be down: the bus runs anyway, keeps events in the outboxes
                // and starts relaying once the guard has found or made the stream.
                let broker =
                    nats::Broker::connect(url, &self.options, self.outboxes.clone()).await?;
                tasks.spawn(broker.clone().guard(stop.clone()));
                tasks.spawn(nats::echoes(
                    self.echoes.clone(),
                    broker.clone(),
                    stop.clone(),
                ));
                for (sub, sub_stats) in &self.subscriptions {
                    let input = self.start_consumer(&mut tasks, sub, sub_stats, &stop);
                    tasks.spawn(nats::fetch(
                        broker.clone(),
                        sub.clone(),
                        self.options.clone(),
                        input,
                        stop.clone(),
                    ));
                }
                for outbox in &self.outboxes {
                    let publisher = nats::Publisher {
                        broker: broker.clone(),
                        options: self.options.clone(),
                    };
                    tasks.spawn(relay::run(
                        publisher,
                        outbox.clone(),
                        self.options.clone(),
                        holder.clone(),
                        stop.clone(),
                    ));
                }
            }
            Backend::Kafka(brokers) => {
                // As with NATS, nothing here waits for the brokers.
                let mut topics = vec![kafka::wake_topic(&self.options)];
                for (sub, _) in &self.subscriptions {
                    topics.extend(kafka::topics_of(&self.options, sub));
                }
                let broker =
                    kafka::Broker::connect(brokers, &self.options, self.outboxes.clone(), topics)?;
                tasks.spawn(broker.clone().guard(stop.clone()));
                tasks.spawn(kafka::echoes(
                    self.echoes.clone(),
                    broker.clone(),
                    holder.clone(),
                    stop.clone(),
                ));
                for (sub, sub_stats) in &self.subscriptions {
                    let input = self.start_consumer(&mut tasks, sub, sub_stats, &stop);
                    tasks.spawn(kafka::fetch(
                        broker.clone(),
                        sub.clone(),
                        input,
                        stop.clone(),
                    ));
                }
                for outbox in &self.outboxes {
                    tasks.spawn(relay::run(
                        kafka::Publisher::new(broker.clone(), outbox.source()),
                        outbox.clone(),
                        self.options.clone(),
                        holder.clone(),
                        stop.clone(),
                    ));
                }
            }
        }
        for (sub, sub_stats) in &self.subscriptions {
            stats.insert(sub.name.clone(), sub_stats.clone());
            if !consumer_dbs
                .iter()
                .any(|db| db.service() == sub.db.service())
            {
                consumer_dbs.push(sub.db.clone());
            }
        }
        // The backlog gauges exist from the start, not from the first housekeeping round.
        record_backlog(&self.outboxes).await;
        tasks.spawn(housekeeping(
            self.outboxes.clone(),
            consumer_dbs,
            self.subscriptions
                .iter()
                .map(|(s, st)| (s.name.clone(), st.clone()))
                .collect(),
            self.options.clone(),
            backend == Backend::Embedded,
            stop.clone(),
        ));
        tracing::info!(
            backend = backend.name(),
            outboxes = self.outboxes.len(),
            subscriptions = self.subscriptions.len(),
            "event bus started"
        );
        Ok(RunningBus {
            stop: stop_tx,
            tasks,
            stats,
        })
    }
}

/// A started bus. `stop` lets every task finish what it is doing; whatever is not
/// acknowledged by then is delivered again at the next start.
pub struct RunningBus {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    stats: HashMap<String, Arc<ConsumerStats>>,
}

impl std::fmt::Debug for RunningBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningBus")
            .field("tasks", &self.tasks.len())
            .finish()
    }
}

impl RunningBus {
    #[must_use]
    pub fn stats(&self, consumer: &str) -> Option<Arc<ConsumerStats>> {
        self.stats.get(consumer).cloned()
    }

    /// Stops relaying and consuming, waiting up to `grace` for tasks to finish.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let drained = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("event bus tasks did not stop in time; aborting them");
            self.tasks.abort_all();
        }
    }
}

async fn housekeeping(
    outboxes: Vec<Outbox>,
    consumer_dbs: Vec<Db>,
    consumers: Vec<(String, Arc<ConsumerStats>)>,
    options: BusOptions,
    embedded: bool,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    let mut round = 0_u32;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        record_backlog(&outboxes).await;
        if embedded {
            for (name, stats) in &consumers {
                metrics::gauge!("bus_consumer_lag", "consumer" => name.clone())
                    .set(stats.in_flight.load(Ordering::Relaxed).max(0) as f64);
            }
        }
        round += 1;
        if !round.is_multiple_of(PURGE_EVERY) {
            continue;
        }
        let now = ordo_kernel::time::now();
        for outbox in &outboxes {
            if let Err(error) =
                store::purge_published(outbox.db(), now - options.outbox_retention).await
            {
                tracing::warn!(source = outbox.source(), %error, "cannot purge the outbox");
            }
        }
        for db in &consumer_dbs {
            if let Err(error) = store::purge_inbox(db, now - options.inbox_retention).await {
                tracing::warn!(service = db.service(), %error, "cannot purge the inbox");
            }
        }
    }
}

/// Sets the backlog gauges of every outbox.
async fn record_backlog(outboxes: &[Outbox]) {
    for outbox in outboxes {
        if let Ok((waiting, oldest)) = store::backlog(outbox.db()).await {
            let age = oldest.map_or(0.0, |at| {
                (ordo_kernel::time::now() - at).as_seconds_f64().max(0.0)
            });
            metrics::gauge!("bus_outbox_backlog", "service" => outbox.source().to_owned())
                .set(waiting as f64);
            metrics::gauge!("bus_outbox_oldest_age_seconds", "service" => outbox.source().to_owned())
                .set(age);
        }
    }
}
