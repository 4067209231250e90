//! Who asks: the authenticated principal a use case acts for, whatever the transport
//! (an HTTP request's token today). Use cases take it from here, never from HTTP.

use crate::Role;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
}

impl Caller {
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller holds one of `roles`.
    #[must_use]
    pub fn has_role(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }
}
