//! Wake-ups between the processes of one platform: a change one process committed wakes
//! the live streams another process holds for the same key (a user's inbox, an order's
//! tracking). Through core NATS subjects beside the stream (`_ORDO_WAKE.{prefix}.{topic}`,
//! outside the stream's `{prefix}.>`, the keys as 16 bytes each), when the bus has a broker; in one process there is nobody to
//! tell. Best effort: a stream also looks again when it reconnects, so a lost wake-up
//! delays a push and loses nothing.

use futures_util::StreamExt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::watch;
use uuid::Uuid;

type Wake = Arc<dyn Fn(Uuid) + Send + Sync>;

/// Where the wake-ups of `topic` go: never under the stream's subjects, which would keep
/// them and hand them to the consumers as events.
fn subject(prefix: &str, topic: &str) -> String {
    format!("_ORDO_WAKE.{prefix}.{topic}")
}

#[derive(Default)]
struct Inner {
    link: OnceLock<(async_nats::Client, String)>,
    listeners: Mutex<Vec<(String, Wake)>>,
    hearing: watch::Sender<bool>,
}

/// The wake-ups of one process, to and from the others. Cheap to clone.
#[derive(Clone, Default)]
pub struct Echoes(Arc<Inner>);

impl std::fmt::Debug for Echoes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Echoes")
            .field("connected", &self.0.link.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Echoes {
    /// Tells the other processes that `keys` of `topic` changed; nothing before the bus
    /// has a broker.
    pub fn send(&self, topic: &str, keys: &[Uuid]) {
        let Some((client, prefix)) = self.0.link.get() else {
            return;
        };
        if keys.is_empty() {
            return;
        }
        let payload: Vec<u8> = keys.iter().flat_map(|key| *key.as_bytes()).collect();
        let (client, subject) = (client.clone(), subject(prefix, topic));
        tokio::spawn(async move {
            if let Err(error) = client.publish(subject, payload.into()).await {
                tracing::debug!(%error, "a wake-up was not sent to the other processes");
            }
        });
    }

    /// Whether wake-ups from other processes are heard: once the bus has a broker and the
    /// subscriptions are made. One lost while the broker is away is not told of.
    #[must_use]
    pub fn hearing(&self) -> bool {
        *self.0.hearing.borrow()
    }

    /// Returns once wake-ups from other processes are heard.
    pub async fn until_hearing(&self) {
        let mut hearing = self.0.hearing.subscribe();
        let _ = hearing.wait_for(|hearing| *hearing).await;
    }

    /// Calls `wake` with every key any process sends on `topic`, this one's included (a
    /// wake-up may be spurious). Listeners registered before the bus starts.
    pub fn listen(&self, topic: &str, wake: Wake) {
        self.0
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((topic.to_owned(), wake));
    }

    /// Sends and listens through `client` under `prefix`, until `stop` turns true. Runs in
    /// the background: nothing waits for the broker, which may be down; sending starts at
    /// once (what cannot go yet is dropped), hearing once the subscriptions are made.
    pub async fn run(
        self,
        client: async_nats::Client,
        prefix: String,
        mut stop: watch::Receiver<bool>,
    ) {
        let _ = self.0.link.set((client.clone(), prefix.clone()));
        let listeners = self
            .0
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut heard = Vec::new();
        let mut deaf = false;
        for (topic, wake) in listeners {
            match client.subscribe(subject(&prefix, &topic)).await {
                Ok(subscriber) => {
                    heard.push(subscriber.map(move |message| (message, wake.clone())))
                }
                Err(error) => {
                    tracing::warn!(%error, topic, "wake-ups from other processes will not be heard");
                    deaf = true;
                }
            }
        }
        let mut heard = futures_util::stream::select_all(heard);
        self.0.hearing.send_replace(!deaf);
        loop {
            let next = tokio::select! {
                next = heard.next() => next,
                _ = stop.wait_for(|stopped| *stopped) => None,
            };
            let Some((message, wake)) = next else { return };
            for key in message.payload.chunks_exact(16) {
                if let Ok(key) = Uuid::from_slice(key) {
                    wake(key);
                }
            }
        }
    }
}
