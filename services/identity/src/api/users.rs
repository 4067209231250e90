use super::me::UserView;
use crate::app::{AccessChange, Identity};
use axum::extract::State;
use ordo_http::{Authenticated, Json, Path, Problem, Query};
use ordo_kernel::Role;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Only users of this role.
    role: Option<Role>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    items: Vec<UserView>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserRequest {
    role: Option<Role>,
    disabled: Option<bool>,
}

/// A user's profile: one's own, or anyone's for an administrator.
#[utoipa::path(get, path = "/users/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The profile", body = UserView),
        (status = 404, description = "Absent, or not the caller's to see", body = Problem),
    ))]
pub async fn get_user(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<UserView>, Problem> {
    Ok(Json(identity.user(&caller, id).await?.into()))
}

/// All users, newest first (administrators).
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])),
    params(ListUsersQuery),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 403, description = "Not an administrator", body = Problem),
    ))]
pub async fn list_users(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
    Query(query): Query<ListUsersQuery>,
) -> Result<Json<UserPage>, Problem> {
    ordo_http::require(&caller, &[Role::Admin])?;
    let page = ordo_http::page_request(query.limit, query.cursor.as_deref())?;
    let users = identity
        .list_users(query.role, page)
        .await?
        .map(UserView::from);
    Ok(Json(UserPage {
        items: users.items,
        next_cursor: users.next_cursor,
    }))
}

/// Change a user's role or disable them (administrators).
#[utoipa::path(patch, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = PatchUserRequest,
    responses(
        (status = 200, description = "The updated user", body = UserView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such user", body = Problem),
        (status = 409, description = "An administrator cannot lock themselves out", body = Problem),
    ))]
pub async fn patch_user(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<PatchUserRequest>,
) -> Result<Json<UserView>, Problem> {
    ordo_http::require(&caller, &[Role::Admin])?;
    let change = AccessChange {
        role: body.role,
        disabled: body.disabled,
    };
    Ok(Json(
        identity.change_access(&caller, id, change).await?.into(),
    ))
}
