//! Where a live notification stream is, and what it sends next. Notification ids are
//! UUIDv7 made inside concurrent consumer transactions, so on PostgreSQL a smaller id may
//! become visible after a larger one was sent; the stream therefore looks again a short
//! window behind the newest id it sent, and sends each id once.

use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;

/// How far behind the newest id sent a stream looks again for late commits: far longer
/// than a consumer transaction takes.
pub const LATE_COMMITS: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct StreamCursor {
    /// Nothing at or before this id is sent: the stream began after it.
    start: Option<Uuid>,
    /// Ids sent within the window behind the newest.
    sent: BTreeSet<Uuid>,
}

impl StreamCursor {
    #[must_use]
    pub fn new(start: Option<Uuid>) -> Self {
        StreamCursor {
            start,
            sent: BTreeSet::new(),
        }
    }

    /// The id to look after: the window behind the newest id sent, never before the start.
    #[must_use]
    pub fn floor(&self) -> Option<Uuid> {
        let behind = self.sent.last().map(|newest| window_floor(*newest));
        self.start.max(behind)
    }

    /// Whether `id` is to be sent now; it is counted as sent.
    pub fn admit(&mut self, id: Uuid) -> bool {
        if self.start.is_some_and(|start| id <= start) || !self.sent.insert(id) {
            return false;
        }
        // Forget what lies below the window: it will not be looked at again.
        if let Some(floor) = self.floor() {
            self.sent = self.sent.split_off(&floor);
        }
        true
    }
}

/// The smallest UUIDv7 made `LATE_COMMITS` before `id` was.
fn window_floor(id: Uuid) -> Uuid {
    let millis = id.as_u128() >> 80;
    let window = LATE_COMMITS.as_millis();
    Uuid::from_u128(millis.saturating_sub(window) << 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: u128, n: u128) -> Uuid {
        Uuid::from_u128((millis << 80) | (0x7 << 76) | n)
    }

    #[test]
    fn a_late_commit_behind_the_newest_is_still_sent_once() {
        let mut cursor = StreamCursor::new(Some(at(1_000_000, 1)));
        assert!(!cursor.admit(at(1_000_000, 1)), "the start itself was seen");
        assert!(cursor.admit(at(1_000_010, 3)));
        // A smaller id commits after the larger one was sent.
        assert!(cursor.floor() < Some(at(1_000_010, 2)));
        assert!(cursor.admit(at(1_000_010, 2)));
        assert!(!cursor.admit(at(1_000_010, 3)), "sent once");
        assert!(!cursor.admit(at(999_000, 9)), "before the start");
    }

    #[test]
    fn the_window_follows_the_newest_and_forgets_what_is_behind_it() {
        let mut cursor = StreamCursor::new(None);
        assert_eq!(cursor.floor(), None);
        assert!(cursor.admit(at(1_000_000, 1)));
        assert!(cursor.admit(at(1_000_000 + 60_000, 1)));
        assert_eq!(cursor.floor(), Some(Uuid::from_u128((1_055_000) << 80)));
        assert_eq!(cursor.sent.len(), 1, "the old id is forgotten");
    }
}
