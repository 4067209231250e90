//! Order per subject, kept by the consumer rather than trusted to the broker: every event
//! carries its place among its source's events about its subject, and the consumer
//! remembers how far it has come in each. An event is handled right after the one before
//! it; one that comes early (a redelivery overtook it, another instance holds its
//! predecessor) is held back until the events before it have come.

use crate::envelope::Envelope;
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;

/// A subject of one source: the unit of order.
pub(super) type Key<'a> = (&'a str, &'a str);

/// Where an event stands in its subject, as far as the consumer has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// The next one (or an event written before places were given): handle it.
    Next,
    /// At or before where the consumer stands: handled, passed over or dead-lettered
    /// already, unless it comes after its gap was reported.
    Behind,
    /// Early: the events after `after` have not all come yet.
    Ahead { after: u64 },
}

/// The consumer's positions in the subjects of one batch, moved as its events are placed.
pub(super) struct Positions<'a> {
    /// Where the consumer stands in each subject it has seen.
    at: HashMap<Key<'a>, u64>,
    moved: HashSet<Key<'a>>,
    held: HashSet<Key<'a>>,
    /// When the consumer first ran: it follows a subject begun before from the first event
    /// of it that it sees.
    since: OffsetDateTime,
}

/// The subjects of `events` that carry places.
pub(super) fn keys<'a>(events: &[&'a Envelope]) -> HashSet<Key<'a>> {
    events
        .iter()
        .filter(|event| event.subject_seq.is_some())
        .map(|event| key(event))
        .collect()
}

pub(super) fn key(event: &Envelope) -> Key<'_> {
    (event.source.as_str(), event.subject.as_str())
}

impl<'a> Positions<'a> {
    /// Starts from `known`, the stored positions of `keys` (absent: nothing seen yet), for
    /// a consumer that first ran at `since`.
    pub(super) fn new(
        keys: &HashSet<Key<'a>>,
        known: &HashMap<(String, String), u64>,
        since: OffsetDateTime,
    ) -> Self {
        let at = keys
            .iter()
            .filter_map(|key| {
                let stored = known.get(&(key.0.to_owned(), key.1.to_owned()))?;
                Some((*key, *stored))
            })
            .collect();
        Self {
            at,
            moved: HashSet::new(),
            held: HashSet::new(),
            since,
        }
    }

    /// Places `event`, moving past it when it is the next. Once an event of a subject is
    /// held, the rest of the batch's events of that subject are held behind it.
    pub(super) fn place(&mut self, event: &'a Envelope) -> Place {
        let key = key(event);
        let seen = self.at.get(&key).copied();
        let at = seen.unwrap_or(0);
        if self.held.contains(&key) {
            return Place::Ahead { after: at };
        }
        let Some(seq) = event.subject_seq else {
            return Place::Next;
        };
        let begun_before = event.subject_since.is_some_and(|begun| begun < self.since);
        if seen.is_none() && begun_before {
            // Its earlier events were written before this consumer existed.
            self.at.insert(key, seq);
            self.moved.insert(key);
            Place::Next
        } else if seq <= at {
            Place::Behind
        } else if seq == at + 1 {
            self.at.insert(key, seq);
            self.moved.insert(key);
            Place::Next
        } else {
            self.held.insert(key);
            Place::Ahead { after: at }
        }
    }

    /// Where the batch leaves the subjects it moved, in sorted order: two transactions moving
    /// the same subjects lock their positions in the same order.
    pub(super) fn moves(&self) -> Vec<(&'a str, &'a str, u64)> {
        let mut moves: Vec<_> = self
            .moved
            .iter()
            .map(|key| (key.0, key.1, self.at[key]))
            .collect();
        moves.sort_unstable();
        moves
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn event(source: &str, subject: &str, seq: Option<u64>) -> Envelope {
        Envelope {
            specversion: "1.0".into(),
            id: uuid::Uuid::now_v7(),
            event_type: "order.placed".into(),
            source: source.into(),
            subject: subject.into(),
            subject_seq: seq,
            subject_since: None,
            time: ordo_kernel::time::now(),
            datacontenttype: "application/json".into(),
            dataversion: 1,
            data: RawValue::from_string("{}".into()).unwrap(),
            traceparent: None,
            correlationid: None,
        }
    }

    #[test]
    fn the_next_moves_on_an_early_one_holds_its_subject_and_old_ones_are_behind() {
        let events = [
            event("orders", "o1", Some(3)),
            event("orders", "o1", Some(4)),
            event("orders", "o1", Some(2)),
            event("orders", "o2", Some(2)),
            event("orders", "o2", Some(1)),
            event("payments", "o2", Some(1)),
            event("orders", "o3", None),
        ];
        let refs: Vec<&Envelope> = events.iter().collect();
        let keys = keys(&refs);
        assert_eq!(keys.len(), 3, "unplaced events have no position");
        let known = HashMap::from([(("orders".to_owned(), "o1".to_owned()), 2)]);
        let mut positions = Positions::new(&keys, &known, ordo_kernel::time::now());
        let places: Vec<Place> = refs.iter().map(|e| positions.place(e)).collect();
        assert_eq!(
            places,
            [
                Place::Next,
                Place::Next,
                Place::Behind,
                Place::Ahead { after: 0 },
                Place::Ahead { after: 0 },
                Place::Next,
                Place::Next,
            ]
        );
        assert_eq!(
            positions.moves(),
            [("orders", "o1", 4), ("payments", "o2", 1)],
            "sorted"
        );
    }

    #[test]
    fn a_subject_begun_before_the_consumer_is_followed_from_the_first_event_seen() {
        let started = ordo_kernel::time::now();
        let mut old = event("orders", "old", Some(5));
        old.subject_since = Some(started - time::Duration::hours(1));
        let mut new = event("orders", "new", Some(2));
        new.subject_since = Some(started + time::Duration::seconds(1));
        let refs = [&old, &new];
        let mut positions = Positions::new(&keys(&refs), &HashMap::new(), started);
        assert_eq!(positions.place(&old), Place::Next);
        assert_eq!(positions.place(&new), Place::Ahead { after: 0 });
        assert_eq!(positions.moves(), [("orders", "old", 5)]);
    }
}
