use crate::app::Identity;
use crate::domain::{ProfileChange, User};
use axum::extract::State;
use ordo_http::{Authenticated, Json, Problem};
use ordo_kernel::Role;
use ordo_kernel::patch::nullable;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    id: Uuid,
    email: String,
    name: String,
    phone: Option<String>,
    role: Role,
    email_verified: bool,
    disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id,
            email: user.email,
            name: user.name,
            phone: user.phone,
            role: user.role,
            email_verified: user.email_verified,
            disabled: user.disabled,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// The fields of one's own profile one may change. Role, email and verification are not
/// among them: sending them is a 422 and changes nothing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMeRequest {
    #[schema(schema_with = ordo_kernel::schema::optional_line::<100>)]
    name: Option<String>,
    /// In E.164 (`+4915112345678`); `null` removes the phone number.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^\s*\+[1-9][0-9]{6,14}\s*$")]
    phone: Option<Option<String>>,
}

/// The caller's profile.
#[utoipa::path(get, path = "/me", tag = "identity", security(("bearer" = [])),
    responses(
        (status = 200, description = "Own profile", body = UserView),
        (status = 401, description = "No valid access token", body = Problem),
    ))]
pub async fn get_me(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<UserView>, Problem> {
    Ok(Json(identity.profile(caller.user_id).await?.into()))
}

/// Change one's own name or phone.
#[utoipa::path(patch, path = "/me", tag = "identity", security(("bearer" = [])),
    request_body = PatchMeRequest,
    responses(
        (status = 200, description = "Updated profile", body = UserView),
        (status = 422, description = "Invalid or unknown fields", body = Problem),
    ))]
pub async fn patch_me(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
    Json(body): Json<PatchMeRequest>,
) -> Result<Json<UserView>, Problem> {
    let change = ProfileChange::parse(
        body.name.as_deref(),
        body.phone.as_ref().map(Option::as_deref),
    )
    .map_err(crate::app::AppError::Invalid)?;
    Ok(Json(
        identity
            .update_profile(caller.user_id, change)
            .await?
            .into(),
    ))
}
