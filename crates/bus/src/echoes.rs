//! Wake-ups between the processes of one platform: a change one process committed wakes
//! the live streams another process holds for the same key (a user's inbox, an order's
//! tracking). Through core NATS subjects beside the stream (`{prefix}.wake.{topic}`, the
//! keys as 16 bytes each), when the bus has a broker; in one process there is nobody to
//! tell. Best effort: a stream also looks again when it reconnects, so a lost wake-up
//! delays a push and loses nothing.

use futures_util::StreamExt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

type Wake = Arc<dyn Fn(Uuid) + Send + Sync>;

#[derive(Default)]
struct Inner {
    link: OnceLock<(async_nats::Client, String)>,
    listeners: Mutex<Vec<(String, Wake)>>,
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
        let (client, subject) = (client.clone(), format!("{prefix}.wake.{topic}"));
        tokio::spawn(async move {
            if let Err(error) = client.publish(subject, payload.into()).await {
                tracing::debug!(%error, "a wake-up was not sent to the other processes");
            }
        });
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

    /// Sends and listens through `client` under `prefix` from now on; the listeners run in
    /// `tasks` until `stop` turns true. Once the subscriptions are made, a wake-up sent from
    /// anywhere reaches them.
    ///
    /// # Errors
    /// When a subscription cannot be made.
    pub async fn connect(
        &self,
        client: async_nats::Client,
        prefix: &str,
        tasks: &mut JoinSet<()>,
        stop: &watch::Receiver<bool>,
    ) -> Result<(), async_nats::SubscribeError> {
        let listeners = self
            .0
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (topic, wake) in listeners {
            let mut heard = client.subscribe(format!("{prefix}.wake.{topic}")).await?;
            let mut stop = stop.clone();
            tasks.spawn(async move {
                loop {
                    let message = tokio::select! {
                        message = heard.next() => message,
                        _ = stop.wait_for(|stopped| *stopped) => None,
                    };
                    let Some(message) = message else { return };
                    for key in message.payload.chunks_exact(16) {
                        if let Ok(key) = Uuid::from_slice(key) {
                            wake(key);
                        }
                    }
                }
            });
        }
        // The server has the subscriptions once it answered a round trip after them.
        if let Err(error) = client.flush().await {
            tracing::debug!(%error, "the wake-up subscriptions are not confirmed yet");
        }
        let _ = self.0.link.set((client, prefix.to_owned()));
        Ok(())
    }
}
