//! JSON log lines name their trace and order at the top (`trace_id`, `order_id`), taken
//! from the nearest enclosing span that knows them, so that finding every line of one
//! order needs no knowledge of which span says what.

use std::fmt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The span fields lifted, and the names they get on the line.
const LIFTED: [(&str, &str); 2] = [("trace.id", "trace_id"), ("order.id", "order_id")];

/// What a span says about its trace and order, kept in its extensions.
#[derive(Debug, Default)]
struct Correlation([Option<String>; 2]);

impl Visit for Correlation {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(slot) = LIFTED.iter().position(|(name, _)| *name == field.name())
            && !value.is_empty()
        {
            self.0[slot] = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

/// Records each span's [`Correlation`].
pub(crate) struct Correlate;

impl<S> Layer<S> for Correlate
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut found = Correlation::default();
        attrs.record(&mut found);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(found);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(found) = span.extensions_mut().get_mut::<Correlation>()
        {
            values.record(found);
        }
    }
}

/// The JSON formatter `F`, with the lifted fields first on each line.
pub(crate) struct Lifted<F>(pub(crate) F);

impl<S, N, F> FormatEvent<S, N> for Lifted<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        let mut lifted: [Option<String>; 2] = [None, None];
        for span in ctx.event_scope().into_iter().flatten() {
            if let Some(found) = span.extensions().get::<Correlation>() {
                for (slot, value) in lifted.iter_mut().zip(&found.0) {
                    if slot.is_none() {
                        slot.clone_from(value);
                    }
                }
            }
        }
        let Some(rest) = line.strip_prefix('{') else {
            return writer.write_str(&line);
        };
        writer.write_char('{')?;
        for ((_, name), value) in LIFTED.iter().zip(&lifted) {
            if let Some(value) = value {
                let value = serde_json::to_string(value).map_err(|_| fmt::Error)?;
                write!(writer, "\"{name}\":{value},")?;
            }
        }
        writer.write_str(rest)
    }
}
