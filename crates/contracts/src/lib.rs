//! The contracts between services. A service publishes and consumes only the types named
//! here, never another service's internals, so a change to a payload is a change to this
//! crate and shows up in review as one.
//!
//! Event payloads are versioned: a backwards-compatible change (a new optional field)
//! keeps the version; anything else is a new type or a new version that consumers handle
//! side by side. Consumers ignore fields they do not know.

pub mod catalog;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A payload that travels on the bus as the `data` of an event.
pub trait Event: Serialize + DeserializeOwned + Send + Sync {
    /// The CloudEvents `type`: `{noun}.{past-tense verb}`, e.g. `order.placed`.
    const TYPE: &'static str;
    /// The payload's schema version, carried as the `dataversion` extension.
    const VERSION: u32;
}
