//! What identity's own refusals answer over HTTP; the shared ones answer as `ordo_kit` says.

use crate::app::IdentityError;
use axum::http::StatusCode;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for IdentityError {
    const NOT_FOUND: &'static str = "no such resource";

    fn problem(&self) -> Problem {
        match self {
            IdentityError::EmailTaken => Problem::conflict(
                "email-taken",
                "an account with this email address already exists",
            ),
            IdentityError::InvalidCredentials => Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Invalid credentials",
                "the email address or the password is wrong",
            ),
            IdentityError::InvalidRefreshToken => Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-refresh-token",
                "Invalid refresh token",
                "the refresh token is invalid, expired or already used; log in again",
            ),
            IdentityError::RateLimited(wait) => Problem::rate_limited(*wait),
            IdentityError::Conflict(detail) => Problem::conflict("conflict", *detail),
        }
    }
}
