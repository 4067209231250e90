//! Login, refresh-token rotation and logout.
//!
//! A refresh token is 32 random bytes shown to the client once and stored only as its
//! SHA-256. Each login starts a family; each refresh spends the presented token and issues
//! the next one in the family. Presenting a spent token means it was copied: the whole
//! family is revoked, so both the thief and the victim must log in again.

use super::{AppError, Identity, IdentityError};
use crate::domain::{Email, User};
use crate::store::{refresh_tokens, users};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ordo_db::Tx;
use ordo_http::auth::{ACCESS_TOKEN_TYPE, AccessClaims};
use ordo_kernel::Violations;
use ordo_kernel::validation::verbatim;
use ring::rand::SecureRandom;
use std::net::IpAddr;
use std::time::Instant;
use tracing::instrument;
use uuid::Uuid;

/// Prefix of refresh tokens, so that secret scanners and people recognise them.
const REFRESH_PREFIX: &str = "ordo_rt_";

/// What a successful login or refresh returns.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// Credentials and tokens are compared as sent, so they are not trimmed or bounded; but no
/// control character is ever part of one, and a request carrying one is invalid (422)
/// rather than a wrong credential.
pub(super) fn verbatim_fields(fields: &[(&str, &str)]) -> Result<(), AppError> {
    let mut violations = Violations::new();
    for (field, value) in fields {
        violations.check(field, verbatim(value));
    }
    violations.into_result(|| ()).map_err(AppError::Invalid)
}

/// What is stored of a secret token (refresh tokens, password-reset links): its SHA-256.
/// Enough for 32 random bytes, which nobody can guess, so no slow hash is needed.
pub(super) fn hash_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// A new secret token: `prefix` and 32 random bytes, URL-safe.
pub(super) fn secret_token(prefix: &str) -> Result<String, AppError> {
    let mut secret = [0_u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| anyhow::anyhow!("no system randomness"))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(secret)))
}

impl Identity {
    /// Checks the credentials and starts a session. Unknown email, wrong password and a
    /// disabled account all answer `InvalidCredentials` after the same amount of work.
    ///
    /// # Errors
    /// `Invalid` for control characters, `RateLimited` past the login quotas,
    /// `InvalidCredentials` otherwise.
    #[instrument(skip_all)]
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<TokenPair, AppError> {
        // The email is trimmed as at sign-up; the password is taken as sent.
        verbatim_fields(&[("email", email.trim()), ("password", password)])?;
        let email = Email::parse(email)
            .map_or_else(|_| email.trim().to_lowercase(), |e| e.as_str().to_owned());
        self.logins
            .attempt(&email, client, Instant::now())
            .map_err(IdentityError::RateLimited)?;

        let found = users::find_credentials(&self.db, &email).await?;
        let Some((user, hash)) = found else {
            self.passwords.verify_unknown(password.to_owned()).await?;
            self.logins.failed(&email, client, Instant::now());
            return Err(IdentityError::InvalidCredentials.into());
        };
        let matches = self.passwords.verify(password.to_owned(), hash).await?;
        if !matches || user.disabled {
            self.logins.failed(&email, client, Instant::now());
            return Err(IdentityError::InvalidCredentials.into());
        }
        self.logins.succeeded(&email, client);
        let mut tx = self.db.begin().await?;
        let pair = self.issue(&mut tx, &user, ordo_kernel::new_id()).await?;
        tx.commit().await?;
        tracing::info!(user.id = %user.id, "logged in");
        Ok(pair)
    }

    /// Spends `refresh_token` and issues the next pair of its family.
    ///
    /// # Errors
    /// `Invalid` for control characters; `InvalidRefreshToken` for an unknown, expired,
    /// revoked or spent token; a spent one also revokes its family.
    #[instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AppError> {
        verbatim_fields(&[("refresh_token", refresh_token)])?;
        let hash = hash_token(refresh_token);
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        let Some((user_id, family_id)) = refresh_tokens::spend(&mut tx, &hash, now).await? else {
            if let Some((user_id, family_id)) = refresh_tokens::owner(&mut tx, &hash).await? {
                let revoked = refresh_tokens::revoke_family(&mut tx, family_id, now).await?;
                tx.commit().await?;
                if revoked > 0 {
                    tracing::warn!(user.id = %user_id, family.id = %family_id, "spent refresh token presented: family revoked");
                }
            }
            return Err(IdentityError::InvalidRefreshToken.into());
        };
        let user = users::find(&mut tx, user_id)
            .await?
            .filter(|user| !user.disabled)
            .ok_or(IdentityError::InvalidRefreshToken)?;
        let pair = self.issue(&mut tx, &user, family_id).await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// Ends sessions of `user_id`: the family of `refresh_token` when given (and the
    /// caller's), otherwise every session of the user.
    ///
    /// # Errors
    /// `Invalid` for control characters in the token; otherwise only when the database
    /// fails; an unknown token is not an error.
    #[instrument(skip_all, fields(user.id = %user_id))]
    pub async fn logout(&self, user_id: Uuid, refresh_token: Option<&str>) -> Result<(), AppError> {
        if let Some(token) = refresh_token {
            verbatim_fields(&[("refresh_token", token)])?;
        }
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        match refresh_token {
            Some(token) => {
                let owner = refresh_tokens::owner(&mut tx, &hash_token(token)).await?;
                if let Some((_, family_id)) = owner.filter(|(owner, _)| *owner == user_id) {
                    refresh_tokens::revoke_family(&mut tx, family_id, now).await?;
                }
            }
            None => {
                refresh_tokens::revoke_user(&mut tx, user_id, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Signs an access token and stores a new refresh token in `family_id`.
    async fn issue(
        &self,
        tx: &mut Tx,
        user: &User,
        family_id: Uuid,
    ) -> Result<TokenPair, AppError> {
        let now = ordo_kernel::time::now();
        let ttl = self.config.access_token_ttl_secs;
        let issued = now.unix_timestamp();
        let claims = AccessClaims {
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            sub: user.id,
            exp: issued + i64::try_from(ttl).unwrap_or(i64::MAX),
            nbf: issued,
            iat: issued,
            role: user.role,
            typ: ACCESS_TOKEN_TYPE.into(),
        };
        let access_token = self
            .keys
            .sign(&claims)
            .map_err(|e| AppError::Unexpected(e.into()))?;

        let refresh_token = secret_token(REFRESH_PREFIX)?;
        let hash = hash_token(&refresh_token);
        let refresh_ttl = time::Duration::seconds(
            i64::try_from(self.config.refresh_token_ttl_secs).unwrap_or(i64::MAX),
        );
        refresh_tokens::insert(
            tx,
            &refresh_tokens::NewRefreshToken {
                id: ordo_kernel::new_id(),
                family_id,
                user_id: user.id,
                token_hash: &hash,
                created_at: now,
                expires_at: now + refresh_ttl,
            },
        )
        .await?;
        Ok(TokenPair {
            access_token,
            expires_in: ttl,
            refresh_token,
        })
    }
}
