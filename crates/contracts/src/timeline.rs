//! What happened to an order in each service, for the operators' order page: every
//! service that keeps something about an order tells it from its own tables, and the
//! orders service puts the entries together in time order.

use crate::ClientFuture;
use ordo_kernel::trace::TraceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// One thing that happened to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub at: OffsetDateTime,
    /// The service that tells it: `orders`, `payments`, `inventory`, `delivery`,
    /// `notifications`.
    pub service: &'static str,
    /// What happened, as a code: `status_changed`, `authorisation_requested`, `offer_made` …
    pub kind: String,
    /// What happened, in words.
    pub summary: String,
    /// The trace it happened in (32 hex digits), when the service recorded one.
    pub trace_id: Option<String>,
}

impl TimelineEntry {
    /// An entry of `service`; its trace id read from a W3C `traceparent` when one was kept.
    #[must_use]
    pub fn new(
        service: &'static str,
        at: OffsetDateTime,
        kind: &str,
        summary: String,
        traceparent: Option<&str>,
    ) -> Self {
        TimelineEntry {
            at,
            service,
            kind: kind.to_owned(),
            summary,
            trace_id: traceparent
                .and_then(TraceContext::parse)
                .map(|trace| trace.trace_id_hex()),
        }
    }
}

/// An entry as it travels from the service that tells it to the one that asked: the
/// service is known from who answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: String,
    pub summary: String,
    pub trace_id: Option<String>,
}

impl From<TimelineEntry> for SentEntry {
    fn from(entry: TimelineEntry) -> Self {
        SentEntry {
            at: entry.at,
            kind: entry.kind,
            summary: entry.summary,
            trace_id: entry.trace_id,
        }
    }
}

impl SentEntry {
    /// The entry as `service` told it.
    #[must_use]
    pub fn told_by(self, service: &'static str) -> TimelineEntry {
        TimelineEntry {
            at: self.at,
            service,
            kind: self.kind,
            summary: self.summary,
            trace_id: self.trace_id,
        }
    }
}

/// A service's part of an order's timeline.
pub trait OrderTimeline: Send + Sync {
    /// What the service did for the order, oldest first; empty for an order it never saw.
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>>;
}
