//! Identity: users, credentials (argon2id), roles, refresh tokens, profiles and addresses,
//! and the keys that sign access tokens.
//!
//! Publishes no events yet; consumes none. Other services read contacts and saved
//! addresses through `ordo_contracts::identity::IdentityClient`. Exports its migrations and
//! its routers; the app wires them with a database and the keyring.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod store;

pub use api::{router, well_known_router};
pub use app::{AppError, Identity};
pub use config::IdentityConfig;
pub use store::keyring::{Keyring, KeyringError};

/// The service's name: its database, schema and log target.
pub const NAME: &str = "identity";

/// Identity's migrations (`migrations/`), one portable file each.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[ordo_db::migration!(1, "0001_create_identity")];
    MIGRATIONS
}
