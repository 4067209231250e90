//! A forgotten password: a link by email, valid for 30 minutes and used once.
//!
//! A request answers the same whatever the address, after the same work: the user looked
//! up, a token made and hashed, a row written and committed — for an address without an
//! account (or a disabled one) a row for nobody, whose token is never sent. Only a real
//! request also publishes `password_reset.requested`, which carries the token to the
//! notifications service to be mailed; identity keeps the token's SHA-256 alone. Using the
//! link sets the password, voids the user's other links and ends every session: refresh
//! tokens revoked, live streams ended and refused to the access tokens already issued.

use super::sessions::{hash_token, secret_token, verbatim_fields};
use super::{AppError, Identity, IdentityError};
use crate::domain::{Email, Password};
use crate::events::publish;
use crate::store::password_resets::{self, NewReset};
use crate::store::{refresh_tokens, users};
use ordo_bus::EventMeta;
use ordo_kernel::Violations;
use std::net::IpAddr;
use tracing::instrument;

/// Prefix of the links' tokens, so that secret scanners and people recognise them.
const RESET_PREFIX: &str = "ordo_pr_";
/// How long a link can be used.
pub const RESET_TTL: time::Duration = time::Duration::minutes(30);

fn unusable_link() -> AppError {
    let mut violations = Violations::new();
    violations.add(
        "token",
        "the link is invalid, has expired or was used already; ask for a new one",
    );
    AppError::Invalid(violations)
}

impl Identity {
    /// Sends a link to reset the password to `email` when it is an account's.
    ///
    /// # Errors
    /// `Invalid` for something that is not an email address, `RateLimited` past the
    /// quotas of the address or of `client`; the database or the bus failing. Never
    /// whether the address has an account.
    #[instrument(skip_all)]
    pub async fn request_password_reset(
        &self,
        email: &str,
        client: IpAddr,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let mut violations = Violations::new();
        let Some(email) = violations.check("email", Email::parse(email)) else {
            return Err(AppError::Invalid(violations));
        };
        self.resets
            .attempt(email.as_str(), client)
            .map_err(IdentityError::RateLimited)?;
        let user = users::find_credentials(&self.db, email.as_str())
            .await?
            .map(|(user, _)| user)
            .filter(|user| !user.disabled);
        let token = secret_token(RESET_PREFIX)?;
        let now = ordo_kernel::time::now();
        let reset = NewReset {
            id: ordo_kernel::new_id(),
            user_id: user.as_ref().map(|user| user.id),
            token_hash: &hash_token(&token),
            created_at: now,
            expires_at: now + RESET_TTL,
        };
        let mut tx = self.db.begin().await?;
        password_resets::insert(&mut tx, &reset).await?;
        if let Some(user) = &user {
            publish::password_reset_requested(
                &self.outbox,
                &mut tx,
                user.id,
                token,
                reset.expires_at,
                meta,
            )
            .await?;
        }
        self.outbox.commit(tx).await?;
        if let Some(user) = user {
            tracing::info!(user.id = %user.id, "password reset link issued");
        }
        Ok(())
    }

    /// Sets the password of the link's user and ends every one of their sessions.
    ///
    /// # Errors
    /// `Invalid` for a password that breaks the rules, or a link that is unknown, expired
    /// or used (the field `token`); the database failing.
    #[instrument(skip_all)]
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), AppError> {
        verbatim_fields(&[("token", token)])?;
        let mut violations = Violations::new();
        let Some(password) = violations.check("password", Password::parse(password)) else {
            return Err(AppError::Invalid(violations));
        };
        let token_hash = hash_token(token);
        // An unusable link costs no password hashing.
        let now = ordo_kernel::time::now();
        if password_resets::usable(&self.db, &token_hash, now)
            .await?
            .is_none()
        {
            return Err(unusable_link());
        }
        let password_hash = self.passwords.hash(password.expose().to_owned()).await?;
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        let Some(user_id) = password_resets::spend(&mut tx, &token_hash, now).await? else {
            return Err(unusable_link());
        };
        password_resets::spend_all(&mut tx, user_id, now).await?;
        users::update_password(&mut tx, user_id, &password_hash, now).await?;
        refresh_tokens::revoke_user(&mut tx, user_id, now).await?;
        tx.commit().await?;
        let ttl = std::time::Duration::from_secs(self.config.access_token_ttl_secs);
        self.streams.end_sessions(user_id, ttl);
        tracing::info!(user.id = %user_id, "password reset; every session ended");
        Ok(())
    }
}
