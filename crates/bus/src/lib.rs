//! The event bus (ARCHITECTURE.md, docs/EVENTS.md). A service appends events to its
//! [`Outbox`] inside the transaction that makes the change; a relay sends them on — in
//! process, through NATS JetStream (`nats://`) or through Kafka (`kafka://`); each [`Subscription`] handles them inside
//! a transaction on its own database that also records them in its inbox, so delivery is
//! at least once and the effect exactly once. Events with the same subject are handled in
//! order. Failures retry with backoff; rejected or exhausted events become dead letters
//! that an operator can replay or discard.

mod ack;
mod bus;
mod consumer;
mod dead_letters;
mod echoes;
mod embedded;
mod envelope;
mod faults;
mod handler;
mod health;
mod kafka;
mod link;
mod nats;
mod options;
mod outbox;
mod relay;
mod store;

pub use bus::{Bus, RunningBus};
pub use consumer::ConsumerStats;
pub use dead_letters::{DeadLetters, republish};
pub use echoes::Echoes;
pub use envelope::{DecodeError, Envelope, EventMeta};
pub use faults::{FaultPoint, Faults};
pub use handler::{Failure, HandlerError, On, Subscription};
pub use health::BusHealth;
pub use options::{Backend, BusOptions, NatsSecurity};
pub use outbox::Outbox;
pub use store::DeadLetter;

/// How many events in `db`'s outbox are not published yet (embedded: not yet handled by
/// every consumer): the asynchronous pipeline's backlog for that service.
///
/// # Errors
/// The database failing.
pub async fn unpublished(db: &ordo_db::Db) -> Result<i64, ordo_db::Error> {
    Ok(store::backlog(db).await?.0)
}

use ordo_db::{Migration, migration};

/// The name under which the bus's tables are versioned in each service's database.
pub const COMPONENT: &str = "bus";

/// The bus's tables (outbox, inbox, dead letters, leases), for every service's database.
#[must_use]
pub fn migrations() -> Vec<Migration> {
    // The outbox's sequence, and PostgreSQL's own types for ids, instants and JSON, are
    // what the dialects write differently.
    vec![
        migration!(1, "0001_create_bus", per_dialect),
        migration!(2, "0002_subject_sequences"),
        migration!(3, "0003_native_types", per_dialect),
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("database: {0}")]
    Db(#[from] ordo_db::Error),
    #[error(
        "event type `{0}` must be `noun.verb` in lowercase letters, from a source named in one"
    )]
    InvalidType(String),
    #[error("{event_type} is published by {owner}, not by {outbox}")]
    WrongSource {
        event_type: &'static str,
        owner: &'static str,
        outbox: String,
    },
    #[error("an event subject must be 1 to 200 characters")]
    InvalidSubject,
    #[error("cannot encode the {event_type} payload: {source}")]
    Encode {
        event_type: &'static str,
        source: serde_json::Error,
    },
    #[error("invalid subscription: {0}")]
    InvalidSubscription(String),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("Kafka: {0}")]
    Kafka(String),
    #[error("{0}")]
    InvalidUrl(String),
}
