//! What a consumer is: a name, its database, and one typed handler per event type it
//! wants, each running inside a transaction on that database. The handlers are the list
//! of types: an event type without a handler cannot be subscribed, and the bus decodes
//! each event once, before its handler sees it.

use crate::envelope::{DecodeError, Envelope};
use crate::outbox::Outbox;
use futures_util::future::BoxFuture;
use ordo_contracts::Event;
use ordo_db::{Db, Tx};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use uuid::Uuid;

/// A handler's answer when it cannot handle an event now.
#[derive(Debug)]
pub enum HandlerError {
    /// A passing failure (a database busy, a provider down): try again later.
    Retry(String),
    /// The event can never be handled (it is malformed or contradicts the consumer's
    /// state): dead-letter it at once.
    Reject(String),
    /// The event follows one of another source that this consumer has not handled yet (a
    /// payment of an order whose placement has not come): held back like an early event of
    /// its own subject, without counting an attempt, until that one comes or the gap
    /// timeout passes.
    Early(String),
}

impl HandlerError {
    pub fn retry(error: impl fmt::Display) -> Self {
        Self::Retry(error.to_string())
    }

    pub fn reject(error: impl fmt::Display) -> Self {
        Self::Reject(error.to_string())
    }

    pub fn early(error: impl fmt::Display) -> Self {
        Self::Early(error.to_string())
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Retry(message) | Self::Reject(message) | Self::Early(message) => message,
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Retry(message) => write!(f, "retry: {message}"),
            Self::Reject(message) => write!(f, "reject: {message}"),
            Self::Early(message) => write!(f, "early: {message}"),
        }
    }
}

impl From<DecodeError> for HandlerError {
    fn from(error: DecodeError) -> Self {
        Self::reject(error)
    }
}

/// What a service's error means to the bus: implemented once per service for the error
/// its use cases return, so that no handler decides it by hand.
pub trait Failure: fmt::Display + Send {
    /// True when trying again later may succeed (a dependency down, a row not there yet);
    /// false when the event can never be handled (it is dead-lettered at once).
    fn is_transient(&self) -> bool;

    /// True when the event follows another, of another source, that the consumer has not
    /// handled yet: it waits for it rather than spending its attempts.
    fn is_early(&self) -> bool {
        false
    }

    /// What the dead letter and the logs say: the error and its causes.
    fn describe(&self) -> String {
        format!("{self:#}")
    }
}

impl Failure for HandlerError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Retry(_))
    }

    fn is_early(&self) -> bool {
        matches!(self, Self::Early(_))
    }

    fn describe(&self) -> String {
        self.message().to_owned()
    }
}

impl Failure for ordo_db::Error {
    fn is_transient(&self) -> bool {
        true
    }
}

fn outcome<E: Failure>(result: Result<(), E>) -> Result<(), HandlerError> {
    result.map_err(|error| {
        if error.is_early() {
            HandlerError::Early(error.describe())
        } else if error.is_transient() {
            HandlerError::Retry(error.describe())
        } else {
            HandlerError::Reject(error.describe())
        }
    })
}

/// One event type's handler, its type erased.
pub(crate) trait Route: Send + Sync {
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>>;
}

/// A handler of events `E` on the state `S` (the service's use cases).
struct Typed<S, E, F, Er> {
    state: Arc<S>,
    handler: F,
    event: PhantomData<fn() -> (E, Er)>,
}

/// A handler of events `E` on the state `S`, failing with `Er`: what
/// [`Subscription::on`] takes, usually a closure.
pub trait On<S, E, Er>:
    for<'a> Fn(&'a S, &'a mut Tx, E, &'a Envelope) -> BoxFuture<'a, Result<(), Er>>
    + Send
    + Sync
    + 'static
{
}

impl<S, E, Er, F> On<S, E, Er> for F where
    F: for<'a> Fn(&'a S, &'a mut Tx, E, &'a Envelope) -> BoxFuture<'a, Result<(), Er>>
        + Send
        + Sync
        + 'static
{
}

impl<S, E, F, Er> Route for Typed<S, E, F, Er>
where
    S: Send + Sync + 'static,
    E: Event + 'static,
    Er: Failure + 'static,
    F: On<S, E, Er>,
{
    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let payload: E = event.decode()?;
            if let Some(order) = payload.order_id() {
                tracing::Span::current().record("order.id", tracing::field::display(order));
            }
            outcome((self.handler)(&self.state, tx, payload, event).await)
        })
    }
}

/// What runs after a consumer's commit, given the ids of the events it handled.
pub(crate) type AfterCommit = dyn Fn(&[Uuid]) + Send + Sync;

/// The handler of one event type, and the source that publishes it.
#[derive(Clone)]
struct Handler {
    event_type: &'static str,
    source: &'static str,
    route: Arc<dyn Route>,
}

/// A consumer of some event types. It receives every event of their sources, so that it
/// can tell whether a subject's earlier events have come, and passes over the types it
/// does not handle.
#[derive(Clone)]
pub struct Subscription {
    pub(crate) name: String,
    pub(crate) db: Db,
    pub(crate) outbox: Option<Outbox>,
    pub(crate) committed: Option<Arc<AfterCommit>>,
    /// Each wanted event in a transaction of its own rather than a batch's, on PostgreSQL.
    pub(crate) one_per_transaction: bool,
    /// One handler per event type: the types the subscription wants.
    routes: Arc<Vec<Handler>>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("name", &self.name)
            .field("types", &self.types())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// `name` identifies the consumer everywhere (inbox, dead letters, the durable JetStream
    /// consumer, metrics): lowercase letters, digits, `-` and `_`, unique in the platform,
    /// e.g. `payments-orders`. Its events are those given handlers with [`Subscription::on`].
    #[must_use]
    pub fn new(name: &str, db: Db) -> Self {
        Self {
            name: name.to_owned(),
            db,
            outbox: None,
            committed: None,
            one_per_transaction: false,
            routes: Arc::new(Vec::new()),
        }
    }

    /// Handles events `E` with `handler`, called with `state`, the consumer's transaction,
    /// the decoded payload and the envelope (its id, trace, subject). The handler may run
    /// more than once for one event (after a crash, or when another event in its batch
    /// failed), but its writes to the transaction commit once; anything it does outside
    /// must be idempotent (a provider call with an idempotency key, an event appended to
    /// the outbox in the transaction). Its error says retry or dead-letter ([`Failure`]).
    #[must_use]
    pub fn on<E, S, F, Er>(mut self, state: &Arc<S>, handler: F) -> Self
    where
        S: Send + Sync + 'static,
        E: Event + 'static,
        Er: Failure + 'static,
        F: On<S, E, Er>,
    {
        let route: Arc<dyn Route> = Arc::new(Typed {
            state: state.clone(),
            handler,
            event: PhantomData::<fn() -> (E, Er)>,
        });
        Arc::make_mut(&mut self.routes).push(Handler {
            event_type: E::TYPE,
            source: E::SOURCE,
            route,
        });
        self
    }

    /// Handles each event it wants in a transaction of its own instead of in a batch's, on
    /// PostgreSQL; the events it passes over (its sources' other types) go along with one,
    /// as they lock only their subjects' positions. For handlers that lock rows which other transactions lock too (a
    /// product's stock): a batch holds every row its events took until it commits, and takes
    /// them in the order of its events, so that checkouts queue behind whole batches and two
    /// batches can take the same rows in opposite orders and deadlock. SQLite's one writer
    /// takes no row locks, and keeps its batches.
    #[must_use]
    pub fn each_event_in_its_own_transaction(mut self) -> Self {
        self.one_per_transaction = true;
        self
    }

    /// The handler appends events to `outbox`: wake its relay after each commit.
    #[must_use]
    pub fn publishing_to(mut self, outbox: &Outbox) -> Self {
        self.outbox = Some(outbox.clone());
        self
    }

    /// Notify `committed` after each commit that handled events: for whoever waits for
    /// what the handler writes (a background task), which is only visible once committed.
    #[must_use]
    pub fn notifying(self, committed: Arc<tokio::sync::Notify>) -> Self {
        self.after_commit(move |_| committed.notify_waiters())
    }

    /// Calls `committed` with the ids of the events a transaction handled, once it has
    /// committed: for whoever waits for what particular events wrote (a user's live
    /// stream), which is only visible then.
    #[must_use]
    pub fn after_commit(mut self, committed: impl Fn(&[Uuid]) + Send + Sync + 'static) -> Self {
        self.committed = Some(Arc::new(committed));
        self
    }

    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event types it handles, in the order their handlers were given.
    pub(crate) fn types(&self) -> Vec<&'static str> {
        self.routes
            .iter()
            .map(|handler| handler.event_type)
            .collect()
    }

    /// The services whose events it receives, each once, sorted.
    pub(crate) fn sources(&self) -> Vec<&'static str> {
        let mut sources: Vec<&'static str> =
            self.routes.iter().map(|handler| handler.source).collect();
        sources.sort_unstable();
        sources.dedup();
        sources
    }

    pub(crate) fn follows(&self, source: &str) -> bool {
        self.routes.iter().any(|handler| handler.source == source)
    }

    pub(crate) fn wants(&self, event_type: &str) -> bool {
        self.routes
            .iter()
            .any(|handler| handler.event_type == event_type)
    }

    /// Runs the handler of `event`'s type.
    pub(crate) fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        match self
            .routes
            .iter()
            .find(|handler| handler.event_type == event.event_type)
        {
            Some(handler) => handler.route.handle(tx, event),
            None => Box::pin(async move {
                Err(HandlerError::reject(format!(
                    "{} has no handler for {}",
                    self.name, event.event_type
                )))
            }),
        }
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
        let mut types = self.types();
        if types.is_empty() {
            return Err(format!(
                "subscription `{}` handles no event types",
                self.name
            ));
        }
        if let Some(bad) = types.iter().find(|t| !crate::envelope::valid_type(t)) {
            return Err(format!(
                "subscription `{}`: event type `{bad}` is not `noun.verb`",
                self.name
            ));
        }
        if let Some(bad) = self
            .sources()
            .into_iter()
            .find(|source| !crate::envelope::valid_source(source))
        {
            return Err(format!(
                "subscription `{}`: source `{bad}` is not one lowercase word",
                self.name
            ));
        }
        types.sort_unstable();
        if let Some(twice) = types.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(format!(
                "subscription `{}` has two handlers for `{}`",
                self.name, twice[0]
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    struct Rang;

    impl Event for Rang {
        const TYPE: &'static str = "bell.rang";
        const VERSION: u32 = 1;
        const SOURCE: &'static str = "belfry";
    }

    fn ignore<'a>(
        _: &'a (),
        _: &'a mut Tx,
        _: Rang,
        _: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    #[tokio::test]
    async fn the_handlers_are_the_list_of_types() {
        let dir = ordo_testkit::temp_dir();
        let db = ordo_testkit::Backend::Sqlite
            .open(dir.path(), "bells")
            .await;
        let state = Arc::new(());
        let none = Subscription::new("bells", db.clone());
        assert!(none.validate().unwrap_err().contains("no event types"));
        let one = Subscription::new("bells", db.clone()).on(&state, ignore);
        assert_eq!(one.types(), ["bell.rang"]);
        assert!(one.wants("bell.rang") && !one.wants("bell.broke"));
        assert_eq!(one.sources(), ["belfry"]);
        assert!(one.follows("belfry") && !one.follows("tower"));
        one.validate().unwrap();
        let twice = one.on(&state, ignore);
        assert!(twice.validate().unwrap_err().contains("two handlers"));
        let bad = Subscription::new("Bells!", db).on(&state, ignore);
        assert!(bad.validate().is_err());
    }
}
