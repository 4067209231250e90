//! What a consumer is: a name, the event types it wants, its database, and a handler that
//! runs inside a transaction on that database.

use crate::envelope::{DecodeError, Envelope};
use crate::outbox::Outbox;
use futures_util::future::BoxFuture;
use ordo_db::{Db, Tx};
use std::fmt;
use std::sync::Arc;

/// A handler's answer when it cannot handle an event now.
#[derive(Debug)]
pub enum HandlerError {
    /// A passing failure (a database busy, a provider down): try again later.
    Retry(String),
    /// The event can never be handled (it is malformed or contradicts the consumer's
    /// state): dead-letter it at once.
    Reject(String),
}

impl HandlerError {
    pub fn retry(error: impl fmt::Display) -> Self {
        Self::Retry(error.to_string())
    }

    pub fn reject(error: impl fmt::Display) -> Self {
        Self::Reject(error.to_string())
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Retry(message) | Self::Reject(message) => message,
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Retry(message) => write!(f, "retry: {message}"),
            Self::Reject(message) => write!(f, "reject: {message}"),
        }
    }
}

impl From<DecodeError> for HandlerError {
    fn from(error: DecodeError) -> Self {
        Self::reject(error)
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        Self::retry(error)
    }
}

/// Handles one event inside `tx`, the consumer's transaction, which also records the
/// event in the inbox; whatever the handler writes commits with it or not at all. A
/// handler may run more than once for one event (after a crash, or when another event in
/// its batch failed), so effects outside `tx` must be idempotent (a provider call with an
/// idempotency key, an event appended to the outbox in `tx`).
pub trait Handler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>>;
}

/// A consumer of some event types.
#[derive(Clone)]
pub struct Subscription {
    pub(crate) name: String,
    pub(crate) types: Vec<String>,
    pub(crate) db: Db,
    pub(crate) outbox: Option<Outbox>,
    pub(crate) committed: Option<Arc<tokio::sync::Notify>>,
    pub(crate) handler: Arc<dyn Handler>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("name", &self.name)
            .field("types", &self.types)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// `name` identifies the consumer everywhere (inbox, dead letters, the durable JetStream
    /// consumer, metrics): lowercase letters, digits, `-` and `_`, unique in the platform,
    /// e.g. `payments-authorise`.
    pub fn new(name: &str, db: Db, types: &[&str], handler: impl Handler) -> Self {
        Self {
            name: name.to_owned(),
            types: types.iter().map(|t| (*t).to_owned()).collect(),
            db,
            outbox: None,
            committed: None,
            handler: Arc::new(handler),
        }
    }

    /// Notify `committed` after each commit that handled events: for whoever waits for
    /// what the handler writes (a live stream), which is only visible once committed.
    #[must_use]
    pub fn notifying(mut self, committed: Arc<tokio::sync::Notify>) -> Self {
        self.committed = Some(committed);
        self
    }

    /// The handler appends events to `outbox`: wake its relay after each commit.
    #[must_use]
    pub fn publishing_to(mut self, outbox: &Outbox) -> Self {
        self.outbox = Some(outbox.clone());
        self
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn wants(&self, event_type: &str) -> bool {
        self.types.iter().any(|t| t == event_type)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !name_ok {
            return Err(format!(
                "subscription name `{}` must be 1-64 lowercase letters, digits, `-` or `_`",
                self.name
            ));
        }
        if self.types.is_empty() {
            return Err(format!("subscription `{}` names no event types", self.name));
        }
        if let Some(bad) = self.types.iter().find(|t| !crate::envelope::valid_type(t)) {
            return Err(format!(
                "subscription `{}`: event type `{bad}` is not `noun.verb`",
                self.name
            ));
        }
        Ok(())
    }
}
