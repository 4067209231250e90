//! What happened to an order in each service, for the operators' order page: every
//! service that keeps something about an order tells it from its own tables, and the
//! orders service puts the entries together in time order.

use crate::ClientFuture;
use ordo_kernel::trace::TraceContext;
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

/// A service's part of an order's timeline.
pub trait OrderTimeline: Send + Sync {
    /// What the service did for the order, oldest first; empty for an order it never saw.
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>>;
}
