use crate::app::Identity;
use crate::domain::{Address, AddressChange, NewAddress};
use axum::extract::State;
use axum::http::StatusCode;
use ordo_http::{Authenticated, Json, Path, Problem, Unknown};
use ordo_kernel::patch::nullable;
use ordo_kernel::{PostalAddress, PostalChange};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// An address as a client sends it: the postal fields beside a label.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddressRequest {
    #[schema(max_length = 50, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    label: Option<String>,
    #[serde(flatten)]
    postal: PostalAddress,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddressPatch {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 50, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    label: Option<Option<String>>,
    #[serde(flatten)]
    postal: PostalChange,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressView {
    id: Uuid,
    label: Option<String>,
    #[serde(flatten)]
    postal: PostalAddress,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressList {
    items: Vec<AddressView>,
}

impl From<Address> for AddressView {
    fn from(a: Address) -> Self {
        AddressView {
            id: a.id,
            label: a.label,
            postal: a.postal,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// The caller's addresses (at most 50, so not paginated).
#[utoipa::path(get, path = "/me/addresses", tag = "identity", security(("bearer" = [])),
    responses((status = 200, description = "Own addresses, oldest first", body = AddressList)))]
pub async fn list(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<AddressList>, Problem> {
    let items = identity.addresses(caller.user_id).await?;
    Ok(Json(AddressList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Add an address.
#[utoipa::path(post, path = "/me/addresses", tag = "identity", security(("bearer" = [])),
    request_body = AddressRequest,
    responses(
        (status = 201, description = "The new address", body = AddressView),
        (status = 409, description = "Too many addresses", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn create(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
    Json(body): Json<AddressRequest>,
) -> Result<(StatusCode, Json<AddressView>), Problem> {
    body.unknown.refuse()?;
    let new = NewAddress {
        label: body.label,
        postal: body.postal,
    };
    let address = identity.add_address(caller.user_id, new).await?;
    Ok((StatusCode::CREATED, Json(address.into())))
}

/// Change an address.
#[utoipa::path(patch, path = "/me/addresses/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Address id")),
    request_body = AddressPatch,
    responses(
        (status = 200, description = "The updated address", body = AddressView),
        (status = 404, description = "Not one of the caller's addresses", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn update(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<AddressPatch>,
) -> Result<Json<AddressView>, Problem> {
    body.unknown.refuse()?;
    let change = AddressChange {
        label: body.label,
        postal: body.postal,
    };
    let address = identity.update_address(caller.user_id, id, change).await?;
    Ok(Json(address.into()))
}

/// Delete an address.
#[utoipa::path(delete, path = "/me/addresses/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Address id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "Not one of the caller's addresses", body = Problem),
    ))]
pub async fn delete(
    State(identity): State<Arc<Identity>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    identity.delete_address(caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
