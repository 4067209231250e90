//! Identity as other services ask it — a customer's saved address at checkout, how to reach
//! a user — and what it publishes: a password reset to send.

use crate::{ClientFuture, Event};
use ordo_kernel::PostalAddress;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "identity";

/// How to reach a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub email: String,
    pub name: String,
    /// In E.164 (`+4915112345678`), when the user gave one.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A user asked to reset their password: the link's token is to be sent to their email
/// address. The token travels only here; identity keeps its hash, and it is spent or
/// expired by `expires_at` (30 minutes on).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub user_id: Uuid,
    pub token: String,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for PasswordResetRequested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResetRequested")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Event for PasswordResetRequested {
    const TYPE: &'static str = "password_reset.requested";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

pub trait IdentityClient: Send + Sync {
    /// How to reach the user; `None` for an unknown or disabled user.
    fn contact(&self, user_id: Uuid) -> ClientFuture<'_, Option<Contact>>;

    /// The user's address with this id; `None` when it is not theirs or does not exist.
    fn address(&self, user_id: Uuid, address_id: Uuid) -> ClientFuture<'_, Option<PostalAddress>>;

    /// The operators: every administrator who is not disabled.
    fn administrators(&self) -> ClientFuture<'_, Vec<Uuid>>;

    /// The users whose email is `query` (whatever its case) or whose name contains it,
    /// newest first, at most `limit` (capped at [`crate::MAX_FOUND`]).
    fn find_users<'a>(&'a self, query: &'a str, limit: usize) -> ClientFuture<'a, Vec<Uuid>>;
}
