//! Waking only the live streams a commit is for: each key (a user, an order) with a
//! stream open has a `Notify`; a writer notes which keys its transaction touches, and once
//! it has committed, those keys' streams are woken. One shared wake-up would send every
//! open stream to the database for every change anyone makes. Echoed through the bus
//! (`Wakeups::echo_through`), a wake-up reaches the streams other processes hold for the
//! key too; a process with no stream open for it does nothing more.

use ordo_bus::Echoes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use uuid::Uuid;

/// How long the keys an event touched are kept when its transaction never commits
/// (retried much later, or dead-lettered): long enough for any retry of it to commit first.
const FORGOTTEN_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
pub struct Wakeups {
    /// The wake-up of each key with a stream open; shared by that key's streams.
    streams: Mutex<HashMap<Uuid, Weak<Notify>>>,
    /// The keys each event being handled touched, until its transaction commits.
    pending: Mutex<HashMap<Uuid, Touched>>,
    /// Where the other processes hear of the keys woken here, and under which topic.
    echo: OnceLock<(String, Echoes)>,
}

#[derive(Debug)]
struct Touched {
    keys: Vec<Uuid>,
    since: Instant,
}

impl Wakeups {
    /// The wake-up of `key`'s streams; it lives while a stream holds it. A stream enables
    /// its interest (`Notified::enable`) before it looks, so a commit in between still
    /// wakes it; a wake-up may also be spurious, and the stream looks again.
    #[must_use]
    pub fn of(&self, key: Uuid) -> Arc<Notify> {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(notify) = streams.get(&key).and_then(Weak::upgrade) {
            return notify;
        }
        // Closed streams leave dead entries; sweep them as the map grows.
        if streams.len() >= 64 && streams.len().is_power_of_two() {
            streams.retain(|_, notify| notify.strong_count() > 0);
        }
        let notify = Arc::new(Notify::new());
        streams.insert(key, Arc::downgrade(&notify));
        notify
    }

    /// Wakes, besides this process's streams, those of every process that echoes `topic`
    /// through `echoes`, and hears theirs.
    pub fn echo_through(self: &Arc<Self>, topic: &str, echoes: &Echoes) {
        let here = Arc::downgrade(self);
        echoes.listen(
            topic,
            Arc::new(move |key| {
                if let Some(wakeups) = here.upgrade() {
                    wakeups.wake_here(&[key]);
                }
            }),
        );
        let _ = self.echo.set((topic.to_owned(), echoes.clone()));
    }

    fn wake_here(&self, keys: &[Uuid]) {
        let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            if let Some(notify) = streams.get(key).and_then(Weak::upgrade) {
                notify.notify_waiters();
            }
        }
    }

    fn wake_all(&self, keys: &[Uuid]) {
        self.wake_here(keys);
        if let Some((topic, echoes)) = self.echo.get() {
            echoes.send(topic, keys);
        }
    }

    /// A transaction the caller made has committed a change to `key`.
    pub fn wake(&self, key: Uuid) {
        self.wake_all(&[key]);
    }

    /// `event`'s handler changed `keys` in its transaction; a retry of it adds to the same
    /// entry. [`Wakeups::committed`] wakes them.
    pub fn touching(&self, event: Uuid, keys: &[Uuid]) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if pending.len() >= 1024 && pending.len().is_power_of_two() {
            pending.retain(|_, touched| now.duration_since(touched.since) < FORGOTTEN_AFTER);
        }
        let touched = pending.entry(event).or_insert_with(|| Touched {
            keys: Vec::new(),
            since: now,
        });
        for key in keys {
            if !touched.keys.contains(key) {
                touched.keys.push(*key);
            }
        }
    }

    /// `events` have committed (a subscription's `after_commit`): wake the streams of the
    /// keys they touched.
    pub fn committed(&self, events: &[Uuid]) {
        let keys: Vec<Uuid> = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            events
                .iter()
                .filter_map(|event| pending.remove(event))
                .flat_map(|touched| touched.keys)
                .collect()
        };
        self.wake_all(&keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn woken(notify: &Notify, wake: impl FnOnce()) -> bool {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        wake();
        futures_util::FutureExt::now_or_never(notified).is_some()
    }

    #[tokio::test]
    async fn only_the_streams_of_the_keys_touched_wake_and_only_after_the_commit() {
        let wakeups = Wakeups::default();
        let (ann, bob, event) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (ann_stream, bob_stream) = (wakeups.of(ann), wakeups.of(bob));
        assert!(Arc::ptr_eq(&ann_stream, &wakeups.of(ann)), "one per key");

        assert!(!woken(&ann_stream, || wakeups.touching(event, &[ann])).await);
        assert!(!woken(&bob_stream, || wakeups.committed(&[event])).await);
        wakeups.touching(event, &[ann]);
        assert!(woken(&ann_stream, || wakeups.committed(&[event])).await);
        assert!(
            !woken(&ann_stream, || wakeups.committed(&[event])).await,
            "told once per commit"
        );
    }

    #[tokio::test]
    async fn a_commit_made_by_the_caller_wakes_its_key_at_once() {
        let wakeups = Wakeups::default();
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let ann_stream = wakeups.of(ann);
        assert!(!woken(&ann_stream, || wakeups.wake(bob)).await);
        assert!(woken(&ann_stream, || wakeups.wake(ann)).await);
    }

    #[tokio::test]
    async fn a_key_whose_streams_closed_is_forgotten() {
        let wakeups = Wakeups::default();
        let users: Vec<Uuid> = (0..64).map(|_| Uuid::now_v7()).collect();
        for user in &users {
            drop(wakeups.of(*user));
        }
        let kept = wakeups.of(Uuid::now_v7());
        let streams = wakeups.streams.lock().unwrap();
        assert_eq!(streams.len(), 1);
        assert!(streams.values().all(|n| n.strong_count() == 1));
        drop(streams);
        drop(kept);
    }
}
