//! Wake-ups between the processes of one platform: a change one process committed wakes
//! the live streams another process holds for the same key (a user's inbox, an order's
//! tracking). Carried by the bus's broker beside its events (NATS core subjects, or a Kafka
//! topic of their own read by every instance), the keys as 16 bytes each; in one process
//! there is nobody to tell. Best effort: a stream also looks again when it reconnects, so a
//! lost wake-up delays a push and loses nothing.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::watch;
use uuid::Uuid;

type Wake = Arc<dyn Fn(Uuid) + Send + Sync>;
/// Hands the wake-ups of a topic (`topic`, keys) to the broker, without waiting.
pub(crate) type Carry = Box<dyn Fn(&str, Vec<u8>) + Send + Sync>;

#[derive(Default)]
struct Inner {
    carry: OnceLock<Carry>,
    listeners: Mutex<Vec<(String, Wake)>>,
    hearing: watch::Sender<bool>,
}

/// The wake-ups of one process, to and from the others. Cheap to clone.
#[derive(Clone, Default)]
pub struct Echoes(Arc<Inner>);

impl std::fmt::Debug for Echoes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Echoes")
            .field("connected", &self.0.carry.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Echoes {
    /// Tells the other processes that `keys` of `topic` changed; nothing before the bus
    /// has a broker.
    pub fn send(&self, topic: &str, keys: &[Uuid]) {
        let Some(carry) = self.0.carry.get() else {
            return;
        };
        if keys.is_empty() {
            return;
        }
        carry(topic, keys.iter().flat_map(|key| *key.as_bytes()).collect());
    }

    /// Whether wake-ups from other processes are heard: once the bus has a broker and
    /// listens to it. One lost while the broker is away is not told of.
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

    /// The topics listened to, for the broker to subscribe to.
    pub(crate) fn topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self
            .0
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(topic, _)| topic.clone())
            .collect();
        topics.sort();
        topics.dedup();
        topics
    }

    /// Sends through `carry` from now on (what could not go before was dropped).
    pub(crate) fn carried_by(&self, carry: Carry) {
        let _ = self.0.carry.set(carry);
    }

    /// The broker listens for this process, or no longer does.
    pub(crate) fn set_hearing(&self, hearing: bool) {
        self.0.hearing.send_replace(hearing);
    }

    /// Wakes the listeners of `topic` with the keys in `payload`.
    pub(crate) fn heard(&self, topic: &str, payload: &[u8]) {
        let listeners: Vec<Wake> = self
            .0
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(listened, _)| listened == topic)
            .map(|(_, wake)| wake.clone())
            .collect();
        for key in payload.chunks_exact(16) {
            if let Ok(key) = Uuid::from_slice(key) {
                for wake in &listeners {
                    wake(key);
                }
            }
        }
    }
}
