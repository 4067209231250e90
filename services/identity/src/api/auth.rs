use crate::app::{Identity, TokenPair};
use crate::domain::Registration;
use axum::extract::State;
use axum::http::StatusCode;
use ordo_bus::EventMeta;
use ordo_http::auth::PublicJwk;
use ordo_http::{Authenticated, ClientIp, Json, Problem, Trace};
use ordo_kernel::Role;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use super::me::UserView;

fn signup_role() -> utoipa::openapi::schema::Object {
    ordo_kernel::schema::one_of(&["customer", "merchant", "courier"], true)
}

/// An email address as sign-up takes it.
fn email_address() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::Type(
            utoipa::openapi::schema::Type::String,
        ))
        .max_length(Some(254))
        .pattern(Some(
            r"^\s*[^\s@\u0000-\u001f\u007f-\u009f]{1,64}@[^\s@.\u0000-\u001f\u007f-\u009f][^\s@\u0000-\u001f\u007f-\u009f]*\.[^\s@\u0000-\u001f\u007f-\u009f]*[^\s@.\u0000-\u001f\u007f-\u009f]\s*$",
        ))
        .build()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(schema_with = email_address)]
    email: String,
    /// At least 10 characters.
    #[schema(schema_with = ordo_kernel::schema::verbatim_between::<10, 1024>)]
    password: String,
    #[schema(schema_with = ordo_kernel::schema::line::<100>)]
    name: String,
    /// `customer` (default), `merchant` or `courier`; never `admin`.
    #[schema(schema_with = signup_role)]
    role: Option<Role>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(schema_with = ordo_kernel::schema::verbatim)]
    email: String,
    #[schema(schema_with = ordo_kernel::schema::verbatim)]
    password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(schema_with = ordo_kernel::schema::verbatim)]
    refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// The session to end; without it, every session of the caller ends.
    #[schema(schema_with = ordo_kernel::schema::optional_verbatim)]
    refresh_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(schema_with = email_address)]
    email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirmation {
    /// The token of the emailed link (`…/#/reset?token=ordo_pr_…`).
    #[schema(schema_with = ordo_kernel::schema::verbatim)]
    token: String,
    /// The new password: at least 10 characters.
    #[schema(schema_with = ordo_kernel::schema::verbatim_between::<10, 1024>)]
    password: String,
}

impl std::fmt::Debug for PasswordResetConfirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordResetConfirmation([redacted])")
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
    refresh_token: String,
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        TokenResponse {
            access_token: pair.access_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    keys: Vec<PublicJwk>,
}

/// Create an account.
#[utoipa::path(post, path = "/auth/register", tag = "identity", request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new user", body = UserView),
        (status = 409, description = "Email taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn register(
    State(identity): State<Arc<Identity>>,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<UserView>), Problem> {
    let registration = Registration::parse(&body.email, &body.password, &body.name, body.role)
        .map_err(crate::app::AppError::Invalid)?;
    let user = identity.register(registration).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Exchange credentials for an access token and a refresh token.
#[utoipa::path(post, path = "/auth/login", tag = "identity", request_body = LoginRequest,
    responses(
        (status = 200, description = "A token pair", body = TokenResponse),
        (status = 401, description = "Wrong email or password (always the same body)", body = Problem),
        (status = 422, description = "Control characters in a field", body = Problem),
        (status = 429, description = "Too many attempts", body = Problem),
    ))]
pub async fn login(
    State(identity): State<Arc<Identity>>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginRequest>,
) -> Result<Json<TokenResponse>, Problem> {
    let pair = identity.login(&body.email, &body.password, ip).await?;
    Ok(Json(pair.into()))
}

/// Spend a refresh token for a new pair.
#[utoipa::path(post, path = "/auth/refresh", tag = "identity", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Invalid, expired or spent; a spent token revokes its family", body = Problem),
        (status = 422, description = "Control characters in the token", body = Problem),
    ))]
pub async fn refresh(
    State(identity): State<Arc<Identity>>,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<TokenResponse>, Problem> {
    let pair = identity.refresh(&body.refresh_token).await?;
    Ok(Json(pair.into()))
}

/// End the session of a refresh token, or all of the caller's sessions.
#[utoipa::path(post, path = "/auth/logout", tag = "identity", request_body(content = Option<LogoutRequest>),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid access token", body = Problem),
        (status = 422, description = "Control characters in the token", body = Problem),
    ))]
pub async fn logout(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
    body: Option<Json<LogoutRequest>>,
) -> Result<StatusCode, Problem> {
    let token = body.and_then(|Json(body)| body.refresh_token);
    identity.logout(caller.user_id, token.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a link to reset a forgotten password. The answer is the same whether or not the
/// address has an account; when it has, a link valid for 30 minutes is emailed to it.
#[utoipa::path(post, path = "/auth/password-reset", tag = "identity", request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "A link is emailed if the address has an account"),
        (status = 422, description = "Not an email address", body = Problem),
        (status = 429, description = "Too many requests for this address or from this client", body = Problem),
    ))]
pub async fn password_reset(
    State(identity): State<Arc<Identity>>,
    ClientIp(ip): ClientIp,
    Trace(trace): Trace,
    Json(body): Json<PasswordResetRequest>,
) -> Result<StatusCode, Problem> {
    identity
        .request_password_reset(&body.email, ip, &EventMeta::from_trace(&trace))
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with the emailed link's token. Every session of the user ends; the
/// link and any other the user was sent cannot be used again.
#[utoipa::path(post, path = "/auth/password-reset/confirm", tag = "identity",
    request_body = PasswordResetConfirmation,
    responses(
        (status = 204, description = "The password is set; every session ended"),
        (status = 422, description = "The password breaks the rules, or the link is unknown, expired or used (`token`)", body = Problem),
    ))]
pub async fn password_reset_confirm(
    State(identity): State<Arc<Identity>>,
    Json(body): Json<PasswordResetConfirmation>,
) -> Result<StatusCode, Problem> {
    identity.reset_password(&body.token, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public keys that verify access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "identity",
    responses((status = 200, description = "JSON Web Key Set", body = Jwks)))]
pub async fn jwks(State(identity): State<Arc<Identity>>) -> Json<Jwks> {
    Json(Jwks {
        keys: identity.keyring().jwks(),
    })
}
