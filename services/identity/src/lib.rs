//! Identity: users, credentials (argon2id), roles, refresh tokens, password-reset links,
//! profiles (with a phone number) and addresses, and the keys that sign access tokens.
//!
//! Publishes `password_reset.requested` (the link to mail); consumes none. Other services
//! read contacts and saved addresses through `ordo_contracts::identity::IdentityClient`.
//! Exports its migrations and its routers; the app wires them with a database and the
//! keyring.

mod api;
mod app;
mod config;
mod domain;
mod events;
mod remote;
mod store;

pub use api::{router, well_known_router};
pub use app::{AppError, Identity, IdentityError};
pub use config::IdentityConfig;
pub use domain::{Email, NewAddress, Password, Registration};
pub use remote::client as remote_client;
pub use store::keyring::{Keyring, KeyringError};

use ordo_contracts::identity::IdentityClient;
use ordo_http::Streams;
use ordo_kit::{Parts, Service, Sweep};
use std::sync::Arc;
use std::time::Duration;

/// The service's name: its database, schema and log target.
pub const NAME: &str = "identity";

/// Identity on its database, signing access tokens with the platform's `keyring`,
/// ending a user's live `streams` with their sessions. Provides `IdentityClient` (and shows
/// `Identity` to the binary); purges expired refresh tokens and reset links hourly.
#[must_use]
pub fn service(
    config: IdentityConfig,
    keyring: Arc<Keyring>,
    streams: Arc<Streams>,
) -> Service<Arc<dyn IdentityClient>> {
    Service::providing(
        NAME,
        migrations(),
        api::paths,
        move |wiring| {
            let identity = Arc::new(Identity::new(
                wiring.db().clone(),
                wiring.outbox().clone(),
                keyring,
                config,
                streams,
            ));
            wiring.expose(identity.clone());
            let housekeeping = Sweep::new(
                "expired refresh tokens and reset links purged",
                Duration::from_secs(3600),
                &identity,
                |identity, _| async move { identity.housekeeping().await },
            );
            Ok(Parts::routes(router(identity.clone()))
                .root_routes(well_known_router(identity.clone()))
                .sweep(housekeeping)
                .internal(api::internal::router(identity.clone()))
                .providing::<Arc<dyn IdentityClient>>(identity))
        },
        remote::client,
    )
}

/// Identity's migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_identity"),
        ordo_db::migration!(2, "0002_password_resets"),
        ordo_db::migration!(3, "0003_native_types", per_dialect),
    ];
    MIGRATIONS
}
