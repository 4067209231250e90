//! Identity as other services ask it: a customer's saved address at checkout.

use crate::ClientFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressSnapshot {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub lat: f64,
    pub lon: f64,
}

/// How to reach a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub email: String,
    pub name: String,
}

pub trait IdentityClient: Send + Sync {
    /// How to reach the user; `None` for an unknown or disabled user.
    fn contact(&self, user_id: Uuid) -> ClientFuture<'_, Option<Contact>>;

    /// The user's address with this id; `None` when it is not theirs or does not exist.
    fn address(&self, user_id: Uuid, address_id: Uuid)
    -> ClientFuture<'_, Option<AddressSnapshot>>;

    /// The operators: every administrator who is not disabled.
    fn administrators(&self) -> ClientFuture<'_, Vec<Uuid>>;
}
