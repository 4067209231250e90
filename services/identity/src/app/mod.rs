//! Identity's use cases, one file each. Every write runs in one transaction: load through
//! `store`, decide in `domain`, save through `store`, commit.

mod account;
mod addresses;
mod client;
mod passwords;
mod resets;
mod sessions;
mod throttle;
mod users;

pub use sessions::TokenPair;
pub use users::AccessChange;

use crate::config::IdentityConfig;
use crate::store::keyring::Keyring;
use ordo_bus::Outbox;
use ordo_db::Db;
use ordo_http::Streams;
use std::sync::Arc;
use std::time::{Duration, Instant};
use throttle::{LoginThrottle, ResetThrottle};

/// Everything identity's use cases need.
pub struct Identity {
    db: Db,
    outbox: Outbox,
    keys: Arc<Keyring>,
    config: IdentityConfig,
    passwords: passwords::Passwords,
    logins: LoginThrottle,
    resets: ResetThrottle,
    /// The live streams of this process, ended with their user's sessions.
    streams: Arc<Streams>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// What a use case can answer besides success.
/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("the refresh token is invalid, expired or spent")]
    InvalidRefreshToken,
    #[error("too many attempts")]
    RateLimited(Duration),
    #[error("conflict: {0}")]
    Conflict(&'static str),
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<IdentityError>;

impl Identity {
    #[must_use]
    pub fn new(
        db: Db,
        outbox: Outbox,
        keys: Arc<Keyring>,
        config: IdentityConfig,
        streams: Arc<Streams>,
    ) -> Self {
        Identity {
            logins: LoginThrottle::new(&config),
            resets: ResetThrottle::new(&config),
            passwords: passwords::Passwords::new(),
            db,
            outbox,
            keys,
            config,
            streams,
        }
    }

    #[must_use]
    pub fn db(&self) -> &Db {
        &self.db
    }

    #[must_use]
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keys
    }

    /// Periodic upkeep: forget expired refresh tokens and reset links, and idle limiters.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn housekeeping(&self) -> Result<usize, AppError> {
        self.logins.forget_idle(Instant::now());
        self.resets.forget_idle();
        let cutoff = ordo_kernel::time::now() - time::Duration::days(1);
        let mut tx = self.db.begin().await?;
        let deleted = crate::store::refresh_tokens::delete_expired(&mut tx, cutoff).await?
            + crate::store::password_resets::delete_expired(&mut tx, cutoff).await?;
        tx.commit().await?;
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }
}
