//! The contracts between services. A service publishes and consumes only the types named
//! here, never another service's internals, so a change to a payload is a change to this
//! crate and shows up in review as one.
//!
//! Event payloads are versioned: a backwards-compatible change (a new optional field)
//! keeps the version; anything else is a new type or a new version that consumers handle
//! side by side. Consumers ignore fields they do not know.

pub mod cart;
pub mod catalog;
pub mod delivery;
pub mod identity;
pub mod inventory;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod reviews;
pub mod timeline;

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// Most users or merchants one search by name returns: the operators' order search asks
/// for at most this many of each.
pub const MAX_FOUND: usize = 100;

/// What a cross-service call returns: in process when embedded, over HTTP when scaled out.
pub type ClientFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ClientError>> + Send + 'a>>;

/// A cross-service call that failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The callee refused the request as invalid: a bug in the caller.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The callee, or a dependency of it, is down: the caller may retry later (503).
    #[error("{service} is unavailable: {detail}")]
    Unavailable {
        service: &'static str,
        detail: String,
    },
    /// The callee failed for another reason: a fault, not an outage (500).
    #[error("{service} failed: {detail}")]
    Failed {
        service: &'static str,
        detail: String,
    },
}

impl ClientError {
    /// `Unavailable` when the callee's failure is an outage (`unavailable`), else `Failed`.
    pub fn failed(service: &'static str, unavailable: bool, error: impl std::fmt::Display) -> Self {
        let detail = error.to_string();
        if unavailable {
            ClientError::Unavailable { service, detail }
        } else {
            ClientError::Failed { service, detail }
        }
    }
}

/// A payload that travels on the bus as the `data` of an event.
pub trait Event: Serialize + DeserializeOwned + Send + Sync {
    /// The CloudEvents `type`: `{noun}.{past-tense verb}`, e.g. `order.placed`.
    const TYPE: &'static str;
    /// The payload's schema version, carried as the `dataversion` extension.
    const VERSION: u32;
    /// The service that publishes it: consumers follow a source's events about a subject in
    /// the order it wrote them, so a type belongs to one source.
    const SOURCE: &'static str;

    /// The order the event is about, which its handler's log lines name; `None` for an
    /// event about no order.
    fn order_id(&self) -> Option<uuid::Uuid> {
        None
    }
}
