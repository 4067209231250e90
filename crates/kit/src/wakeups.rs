//! Waking only the live streams a filing is for: each user with a stream open has a
//! `Notify`; an event's handler notes whom it filed for, and once its transaction has
//! committed, those users' streams are woken. One shared wake-up would send every open
//! stream to the database for every message anyone gets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use uuid::Uuid;

/// How long whom an event filed for is kept when its transaction never commits (retried
/// much later, or dead-lettered): long enough for any retry of it to commit first.
const FORGOTTEN_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
pub(crate) struct Wakeups {
    /// The wake-up of each user with a stream open; shared by that user's streams.
    streams: Mutex<HashMap<Uuid, Weak<Notify>>>,
    /// Whom each event being handled filed for, until its transaction commits.
    pending: Mutex<HashMap<Uuid, Filed>>,
}

#[derive(Debug)]
struct Filed {
    users: Vec<Uuid>,
    since: Instant,
}

impl Wakeups {
    /// The wake-up of `user`'s streams; it lives while a stream holds it.
    pub(crate) fn of(&self, user: Uuid) -> Arc<Notify> {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(notify) = streams.get(&user).and_then(Weak::upgrade) {
            return notify;
        }
        // Closed streams leave dead entries; sweep them as the map grows.
        if streams.len() >= 64 && streams.len().is_power_of_two() {
            streams.retain(|_, notify| notify.strong_count() > 0);
        }
        let notify = Arc::new(Notify::new());
        streams.insert(user, Arc::downgrade(&notify));
        notify
    }

    /// `event`'s handler filed for `users`; a retry of it adds to the same entry.
    pub(crate) fn filing(&self, event: Uuid, users: &[Uuid]) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if pending.len() >= 1024 && pending.len().is_power_of_two() {
            pending.retain(|_, filed| now.duration_since(filed.since) < FORGOTTEN_AFTER);
        }
        let filed = pending.entry(event).or_insert_with(|| Filed {
            users: Vec::new(),
            since: now,
        });
        for user in users {
            if !filed.users.contains(user) {
                filed.users.push(*user);
            }
        }
    }

    /// `events` have committed: wake the streams of everyone they filed for.
    pub(crate) fn committed(&self, events: &[Uuid]) {
        let users: Vec<Uuid> = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            events
                .iter()
                .filter_map(|event| pending.remove(event))
                .flat_map(|filed| filed.users)
                .collect()
        };
        let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        for user in users {
            if let Some(notify) = streams.get(&user).and_then(Weak::upgrade) {
                notify.notify_waiters();
            }
        }
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
    async fn only_the_streams_of_those_filed_for_wake_and_only_after_the_commit() {
        let wakeups = Wakeups::default();
        let (ann, bob, event) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (ann_stream, bob_stream) = (wakeups.of(ann), wakeups.of(bob));
        assert!(Arc::ptr_eq(&ann_stream, &wakeups.of(ann)), "one per user");

        assert!(!woken(&ann_stream, || wakeups.filing(event, &[ann])).await);
        assert!(!woken(&bob_stream, || wakeups.committed(&[event])).await);
        wakeups.filing(event, &[ann]);
        assert!(woken(&ann_stream, || wakeups.committed(&[event])).await);
        assert!(
            !woken(&ann_stream, || wakeups.committed(&[event])).await,
            "told once per commit"
        );
    }

    #[tokio::test]
    async fn a_user_whose_streams_closed_is_forgotten() {
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
