//! The CloudEvents 1.0 envelope every event travels in, on every backend.

use ordo_contracts::Event;
use ordo_kernel::trace::TraceContext;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use uuid::Uuid;

pub const SPEC_VERSION: &str = "1.0";
pub const CONTENT_TYPE: &str = "application/json";

/// One event as CloudEvents 1.0 JSON (structured mode), with the `dataversion`,
/// `traceparent` and `correlationid` extensions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub specversion: String,
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The publishing service.
    pub source: String,
    /// The ordering key: events with the same subject are handled in order.
    pub subject: String,
    /// The event's place among its source's events about `subject` (1, 2, 3…), given in
    /// the transaction that wrote it; `None` in events written before places were given.
    #[serde(
        rename = "subjectseq",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subject_seq: Option<u64>,
    /// When the subject's first event was written: a consumer that started later follows
    /// the subject from the first event it sees.
    #[serde(
        rename = "subjectsince",
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub subject_since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub datacontenttype: String,
    pub dataversion: u32,
    pub data: Box<RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlationid: Option<String>,
}

/// Why an envelope's `data` could not be read as the payload a consumer expected.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("expected a {expected} event, got {actual}")]
    WrongType {
        expected: &'static str,
        actual: String,
    },
    #[error("{event_type} version {actual} is newer than this consumer understands ({known})")]
    UnknownVersion {
        event_type: &'static str,
        actual: u32,
        known: u32,
    },
    #[error("invalid {event_type} payload: {source}")]
    Payload {
        event_type: &'static str,
        source: serde_json::Error,
    },
}

impl Envelope {
    /// The payload as `E`. Unknown fields are ignored; a newer version than `E` knows is an
    /// error, since its meaning may have changed.
    ///
    /// # Errors
    /// When the event is of another type, a newer version, or its data does not parse.
    pub fn decode<E: Event>(&self) -> Result<E, DecodeError> {
        if self.event_type != E::TYPE {
            return Err(DecodeError::WrongType {
                expected: E::TYPE,
                actual: self.event_type.clone(),
            });
        }
        if self.dataversion > E::VERSION {
            return Err(DecodeError::UnknownVersion {
                event_type: E::TYPE,
                actual: self.dataversion,
                known: E::VERSION,
            });
        }
        serde_json::from_str(self.data.get()).map_err(|source| DecodeError::Payload {
            event_type: E::TYPE,
            source,
        })
    }
}

/// Trace and correlation carried from whatever caused an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMeta {
    pub traceparent: Option<String>,
    pub correlationid: Option<String>,
}

impl EventMeta {
    /// An event published under `trace`: the request's (or the job's) span is its parent.
    #[must_use]
    pub fn from_trace(trace: &TraceContext) -> Self {
        Self {
            traceparent: Some(trace.to_string()),
            correlationid: None,
        }
    }

    /// An event published by a job nothing asked for (a sweep): under the job's span when
    /// spans are exported, otherwise in a trace of its own, so that what it changed can
    /// still be told apart and followed.
    #[must_use]
    pub fn job() -> Self {
        Self::from_trace(&ordo_telemetry::current().unwrap_or_else(TraceContext::new_root))
    }

    /// An event published while handling `cause`: the same trace and correlation (the
    /// cause's own id when it had none), so one checkout can be followed across services.
    /// Its parent is the handler's span when spans are exported.
    #[must_use]
    pub fn caused_by(cause: &Envelope) -> Self {
        let cause_trace = cause.traceparent.as_deref().and_then(TraceContext::parse);
        let handler = ordo_telemetry::current()
            .filter(|handler| cause_trace.is_none_or(|cause| cause.trace_id == handler.trace_id));
        Self {
            traceparent: handler
                .or_else(|| cause_trace.map(|trace| trace.child()))
                .map(|trace| trace.to_string()),
            correlationid: Some(
                cause
                    .correlationid
                    .clone()
                    .unwrap_or_else(|| cause.id.to_string()),
            ),
        }
    }
}

/// Whether `event_type` has the `noun.verb` shape the bus relies on (it becomes two
/// tokens of a NATS subject).
pub(crate) fn valid_type(event_type: &str) -> bool {
    let mut parts = event_type.split('.');
    let word = |part: Option<&str>| {
        part.is_some_and(|w| {
            w.starts_with(|c: char| c.is_ascii_lowercase())
                && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        })
    };
    word(parts.next()) && word(parts.next()) && parts.next().is_none()
}

/// Whether `source` can name a publishing service: one NATS subject token, lowercase.
pub(crate) fn valid_source(source: &str) -> bool {
    !source.is_empty()
        && source.len() <= 64
        && source
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Placed {
        order: String,
    }
    impl Event for Placed {
        const TYPE: &'static str = "order.placed";
        const VERSION: u32 = 2;
        const SOURCE: &'static str = "orders";
    }

    fn envelope(event_type: &str, version: u32, data: &str) -> Envelope {
        Envelope {
            specversion: SPEC_VERSION.into(),
            id: Uuid::now_v7(),
            event_type: event_type.into(),
            source: "orders".into(),
            subject: "o1".into(),
            subject_seq: Some(1),
            subject_since: None,
            time: ordo_kernel::time::now(),
            datacontenttype: CONTENT_TYPE.into(),
            dataversion: version,
            data: RawValue::from_string(data.into()).unwrap(),
            traceparent: None,
            correlationid: None,
        }
    }

    #[test]
    fn decodes_known_and_older_versions_ignoring_unknown_fields() {
        let event = envelope("order.placed", 1, r#"{"order":"o1","extra":true}"#);
        assert_eq!(
            event.decode::<Placed>().unwrap(),
            Placed { order: "o1".into() }
        );
    }

    #[test]
    fn refuses_other_types_newer_versions_and_bad_payloads() {
        let wrong = envelope("order.cancelled", 1, r#"{"order":"o1"}"#);
        assert!(matches!(
            wrong.decode::<Placed>(),
            Err(DecodeError::WrongType { .. })
        ));
        let newer = envelope("order.placed", 3, r#"{"order":"o1"}"#);
        assert!(matches!(
            newer.decode::<Placed>(),
            Err(DecodeError::UnknownVersion { .. })
        ));
        let bad = envelope("order.placed", 2, r#"{"order":7}"#);
        assert!(matches!(
            bad.decode::<Placed>(),
            Err(DecodeError::Payload { .. })
        ));
    }

    #[test]
    fn serialises_as_cloudevents_and_back() {
        let mut event = envelope("order.placed", 2, r#"{"order":"o1"}"#);
        event.correlationid = Some("c".into());
        let json: serde_json::Value = serde_json::to_value(&event).unwrap();
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["type"], "order.placed");
        assert_eq!(json["data"]["order"], "o1");
        assert_eq!(json["subjectseq"], 1);
        assert!(json.get("traceparent").is_none());
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back.id, event.id);
        assert_eq!(back.data.get(), event.data.get());
    }

    #[test]
    fn caused_events_keep_the_trace_and_correlation() {
        let mut cause = envelope("order.placed", 1, "{}");
        let trace = TraceContext::new_root();
        cause.traceparent = Some(trace.to_string());
        let meta = EventMeta::caused_by(&cause);
        assert_eq!(meta.correlationid, Some(cause.id.to_string()));
        let child = TraceContext::parse(meta.traceparent.as_deref().unwrap()).unwrap();
        assert_eq!(child.trace_id, trace.trace_id);
        assert_ne!(child.span_id, trace.span_id);
    }

    #[test]
    fn event_types_are_noun_dot_verb() {
        assert!(valid_type("order.placed"));
        assert!(valid_type("payment.partially_refunded"));
        for bad in [
            "order",
            "order.placed.v1",
            "Order.placed",
            "order.",
            ".placed",
            "order.pla ced",
            "order.>",
        ] {
            assert!(!valid_type(bad), "{bad}");
        }
        assert!(valid_source("orders") && valid_source("load-test_2"));
        for bad in ["", "Orders", "orders.eu", "orders>", "a b"] {
            assert!(!valid_source(bad), "{bad}");
        }
    }
}
