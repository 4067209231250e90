//! Where a span stands in its trace: what the events published under it carry, so that an
//! exported handler span's parent is a span that was exported too.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use ordo_kernel::trace::TraceContext;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Puts `span` into its trace, under `parent` (the caller's or the causing event's span)
/// when there is one, and answers the span's own place in that trace: what the events
/// published under it carry. When spans are not exported the span has no id of its own
/// and a new one stands for it.
#[must_use]
pub fn join(span: &Span, parent: Option<TraceContext>) -> TraceContext {
    if let Some(parent) = parent {
        // Without the export layer, or for a span filtered out, there is nothing to attach.
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(
            SpanContext::new(
                TraceId::from_bytes(parent.trace_id),
                SpanId::from_bytes(parent.span_id),
                if parent.sampled {
                    TraceFlags::SAMPLED
                } else {
                    TraceFlags::default()
                },
                true,
                TraceState::default(),
            ),
        ));
    }
    place(span).unwrap_or_else(|| parent.map_or_else(TraceContext::new_root, |p| p.child()))
}

/// The current span's place in its trace, when spans are exported.
#[must_use]
pub fn current() -> Option<TraceContext> {
    place(&Span::current())
}

fn place(span: &Span) -> Option<TraceContext> {
    let context = span.context();
    let own = context.span().span_context().clone();
    own.is_valid().then(|| TraceContext {
        trace_id: own.trace_id().to_bytes(),
        span_id: own.span_id().to_bytes(),
        sampled: own.is_sampled(),
    })
}
