//! Authentication at the gateway: access tokens are EdDSA-signed JWTs whose public keys
//! come from identity's JWKS. The verified caller reaches handlers through one extractor,
//! `Caller`; role checks are `caller.require(...)`, object checks live in the use cases.

use crate::problem::Problem;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::{header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ordo_kernel::{Caller, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use uuid::Uuid;

/// The `typ` claim of access tokens; a token of any other type is refused.
pub const ACCESS_TOKEN_TYPE: &str = "access";

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 60;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub role: Role,
    pub typ: String,
}

/// A public signing key as published in the JWKS (RFC 8037 OKP key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub kid: String,
    /// The Ed25519 public key, base64url without padding.
    pub x: String,
}

impl PublicJwk {
    #[must_use]
    pub fn ed25519(kid: String, x: String) -> Self {
        PublicJwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
            kid,
            x,
        }
    }
}

/// The authenticated caller of a request, as an extractor: 401 without a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(|| Problem::unauthorized("this action needs a bearer token"))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Authenticated {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get::<Caller>().cloned().map(Authenticated))
    }
}

/// 403 unless `caller` holds one of `roles`.
///
/// # Errors
/// A 403 problem naming the roles allowed.
pub fn require(caller: &Caller, roles: &[Role]) -> Result<(), Problem> {
    if caller.has_role(roles) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(Problem::forbidden(format!(
            "this action needs the role {}",
            names.join(" or ")
        )))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not signed with EdDSA")]
    Algorithm,
    #[error("the token names no key or an unknown key")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the token is not of the type expected here")]
    WrongType,
}

/// Tokens remembered as verified, at most: past it, the expired ones go, then all.
const REMEMBERED: usize = 50_000;

/// When the access token of a request was issued and when it expires (`iat` and `exp`,
/// Unix seconds), beside its `Caller` in the request: what a live stream lives by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLife {
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A token that verified, until it expires.
#[derive(Debug, Clone)]
struct Verified {
    caller: Caller,
    life: TokenLife,
    /// `exp`, with the leeway the validation allows.
    until: u64,
}

/// Verifies access tokens against a set of public keys, with the algorithm pinned. A
/// client sends the same token with every request until it expires, and an Ed25519
/// verification is most of what a cheap request costs: a token that verified is
/// remembered, by its exact text, until its expiry or until the keys change.
pub struct Verifier {
    keys: RwLock<HashMap<String, DecodingKey>>,
    validation: Validation,
    verified: RwLock<HashMap<String, Verified>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl Verifier {
    #[must_use]
    pub fn new(issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Verifier {
            keys: RwLock::new(HashMap::new()),
            validation,
            verified: RwLock::new(HashMap::new()),
        }
    }

    /// Replaces the trusted keys, e.g. after a rotation. Keys that do not decode are skipped.
    pub fn replace_keys(&self, jwks: &[PublicJwk]) {
        let keys = jwks
            .iter()
            .filter(|jwk| jwk.kty == "OKP" && jwk.crv == "Ed25519")
            .filter_map(|jwk| match DecodingKey::from_ed_components(&jwk.x) {
                Ok(key) => Some((jwk.kid.clone(), key)),
                Err(error) => {
                    tracing::warn!(kid = %jwk.kid, %error, "skipping an undecodable public key");
                    None
                }
            })
            .collect::<HashMap<String, DecodingKey>>();
        let mut current = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let same = current.len() == keys.len() && keys.keys().all(|kid| current.contains_key(kid));
        *current = keys;
        if !same {
            // A token signed by a key no longer trusted must not pass from memory.
            self.verified
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clear();
        }
    }

    /// Checks signature, algorithm, `exp`, `nbf`, `iss`, `aud` and `typ`. An unknown `kid`
    /// fails at once: keys are only ever learnt from identity, never fetched per token.
    ///
    /// # Errors
    /// Why the token is not acceptable.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        self.verify_living(token).map(|(caller, _)| caller)
    }

    /// As [`Verifier::verify`], with when the token was issued and expires.
    ///
    /// # Errors
    /// Why the token is not acceptable.
    pub fn verify_living(&self, token: &str) -> Result<(Caller, TokenLife), TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(known) = self
            .verified
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .filter(|known| now <= known.until)
        {
            return Ok((known.caller.clone(), known.life));
        }
        self.verify_signed(token)
    }

    /// What users' access tokens are checked against (issuer, audience, times).
    pub(crate) fn validation(&self) -> &Validation {
        &self.validation
    }

    /// The claims of `token`, once its algorithm, key and `validation` pass.
    pub(crate) fn decode<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<C, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Algorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = keys.get(&kid).ok_or(TokenError::UnknownKey)?;
        Ok(jsonwebtoken::decode::<C>(token, key, validation)
            .map_err(|error| TokenError::Invalid(error.to_string()))?
            .claims)
    }

    fn verify_signed(&self, token: &str) -> Result<(Caller, TokenLife), TokenError> {
        let claims: AccessClaims = self.decode(token, &self.validation)?;
        if claims.typ != ACCESS_TOKEN_TYPE {
            return Err(TokenError::WrongType);
        }
        let caller = Caller {
            user_id: claims.sub,
            role: claims.role,
        };
        let life = TokenLife {
            issued_at: claims.iat,
            expires_at: claims.exp,
        };
        let until = u64::try_from(claims.exp).unwrap_or(0) + self.validation.leeway;
        self.remember(token, &caller, life, until);
        Ok((caller, life))
    }

    fn remember(&self, token: &str, caller: &Caller, life: TokenLife, until: u64) {
        let mut verified = self
            .verified
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if verified.len() >= REMEMBERED {
            let now = jsonwebtoken::get_current_timestamp();
            verified.retain(|_, known| now <= known.until);
            if verified.len() >= REMEMBERED {
                verified.clear();
            }
        }
        verified.insert(
            token.to_owned(),
            Verified {
                caller: caller.clone(),
                life,
                until,
            },
        );
    }
}

/// A bearer token that did not verify, noted by `identify` for `refuse_invalid_token`.
#[derive(Debug, Clone, Copy)]
struct InvalidToken(&'static str);

/// Middleware, first of the three around the rate limiter: identifies the caller of a
/// request with an `Authorization` header and puts it in the request for the limiter and
/// the `Caller` extractor. A token that does not verify is only noted: the limiter counts
/// the request against the client's address like any anonymous one, so a client sending
/// bad tokens is throttled (429) rather than answered 401 forever; `refuse_invalid_token`
/// answers the 401 after it. A request without the header goes on anonymously, and
/// routes that need a caller refuse it.
pub async fn identify(
    axum::extract::State(verifier): axum::extract::State<Arc<Verifier>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let outcome = match token {
            None => Err(InvalidToken("use the Bearer scheme")),
            Some(token) => verifier.verify_living(token).map_err(|error| {
                tracing::debug!(%error, "bearer token refused");
                InvalidToken("the bearer token is invalid or expired")
            }),
        };
        match outcome {
            Ok((caller, life)) => {
                tracing::Span::current().record("user.id", tracing::field::display(caller.user_id));
                request.extensions_mut().insert(caller);
                request.extensions_mut().insert(life);
            }
            Err(invalid) => {
                request.extensions_mut().insert(invalid);
            }
        }
    }
    next.run(request).await
}

/// Middleware, after the rate limiter: a request whose `Authorization` header did not
/// verify is refused with 401, even on public routes.
pub async fn refuse_invalid_token(request: Request, next: Next) -> Response {
    match request.extensions().get::<InvalidToken>() {
        Some(InvalidToken(detail)) => Problem::unauthorized(*detail).into_response(),
        None => next.run(request).await,
    }
}
