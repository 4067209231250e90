//! Service tokens: what one service presents to another on `/internal/v1`. A short-lived
//! EdDSA JWT naming the calling services (`sub`) and the callee (`aud`), signed with the
//! same keyring (and rotation) as users' access tokens and checked against the same JWKS.
//! A service token is never an access token (`typ` differs, and its `sub` names no user),
//! and an access token is never a service token.

use crate::auth::{TokenError, Verifier};
use crate::problem::Problem;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The `typ` claim of service tokens.
pub const SERVICE_TOKEN_TYPE: &str = "service";

/// How long a service token lives; a caller uses one for half of it.
pub const SERVICE_TOKEN_SECS: i64 = 300;

/// The claims of a service token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceClaims {
    pub iss: String,
    /// `ordo-service:` and the callee's name.
    pub aud: String,
    /// The services the calling process runs, comma-separated.
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub typ: String,
}

/// The audience of the tokens `callee` accepts.
#[must_use]
pub fn audience(callee: &str) -> String {
    format!("ordo-service:{callee}")
}

/// Signs service tokens: identity's keyring, in every process of a platform.
pub trait ServiceSigner: Send + Sync {
    /// # Errors
    /// When the signing key cannot sign (a corrupt key).
    fn sign_service(&self, claims: &ServiceClaims) -> Result<String, String>;
}

/// The tokens a process presents to the services it calls: one per callee, minted when the
/// last one is half-way through its life.
pub struct ServiceTokens {
    signer: Arc<dyn ServiceSigner>,
    issuer: String,
    caller: String,
    minted: Mutex<HashMap<String, (String, i64)>>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTokens")
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl ServiceTokens {
    /// Tokens of the `caller` (the services this process runs) under `issuer`.
    #[must_use]
    pub fn new(signer: Arc<dyn ServiceSigner>, issuer: &str, caller: &str) -> Self {
        ServiceTokens {
            signer,
            issuer: issuer.to_owned(),
            caller: caller.to_owned(),
            minted: Mutex::new(HashMap::new()),
        }
    }

    /// A token for `callee`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn for_callee(&self, callee: &str) -> Result<String, String> {
        let now = ordo_kernel::time::now().unix_timestamp();
        let mut minted = self
            .minted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((token, renew_at)) = minted.get(callee)
            && now < *renew_at
        {
            return Ok(token.clone());
        }
        let claims = ServiceClaims {
            iss: self.issuer.clone(),
            aud: audience(callee),
            sub: self.caller.clone(),
            exp: now + SERVICE_TOKEN_SECS,
            nbf: now,
            iat: now,
            typ: SERVICE_TOKEN_TYPE.to_owned(),
        };
        let token = self.signer.sign_service(&claims)?;
        minted.insert(
            callee.to_owned(),
            (token.clone(), now + SERVICE_TOKEN_SECS / 2),
        );
        Ok(token)
    }
}

/// The calling services of an internal request, as the token named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallingService(pub String);

/// Middleware of a service's internal routes: 401 unless the request carries a service
/// token for `callee`, which verifies.
pub async fn service_only(
    State((verifier, callee)): State<(Arc<Verifier>, &'static str)>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        return Problem::unauthorized("internal routes need a service token").into_response();
    };
    match verifier.verify_service(token, callee) {
        Ok(caller) => {
            request.extensions_mut().insert(CallingService(caller));
            next.run(request).await
        }
        Err(error) => {
            tracing::warn!(%error, callee, "service token refused");
            Problem::unauthorized("the service token is invalid, expired or not for this service")
                .into_response()
        }
    }
}

impl Verifier {
    /// Checks a service token for `callee`: signature, algorithm, `exp`, `nbf`, `iss`,
    /// `aud` (the callee's) and `typ`; answers the calling services.
    ///
    /// # Errors
    /// Why the token is not acceptable.
    pub fn verify_service(&self, token: &str, callee: &str) -> Result<String, TokenError> {
        let mut validation = self.validation().clone();
        validation.set_audience(&[audience(callee)]);
        let claims: ServiceClaims = self.decode(token, &validation)?;
        if claims.typ != SERVICE_TOKEN_TYPE {
            return Err(TokenError::WrongType);
        }
        Ok(claims.sub)
    }
}
