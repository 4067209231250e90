//! The one mapping from identity's use-case errors to HTTP problems.

use crate::app::AppError;
use axum::http::StatusCode;
use ordo_http::Problem;

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(violations) => Problem::invalid(violations),
            AppError::EmailTaken => Problem::conflict(
                "email-taken",
                "an account with this email address already exists",
            ),
            AppError::InvalidCredentials => Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Invalid credentials",
                "the email address or the password is wrong",
            ),
            AppError::InvalidRefreshToken => Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-refresh-token",
                "Invalid refresh token",
                "the refresh token is invalid, expired or already used; log in again",
            ),
            AppError::RateLimited(wait) => Problem::rate_limited(wait),
            AppError::NotFound => Problem::not_found("no such resource"),
            AppError::Conflict(detail) => Problem::conflict("conflict", detail),
            AppError::Unexpected(cause) => Problem::internal(cause.as_ref()),
        }
    }
}
