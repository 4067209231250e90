//! Identity's internal routes (`/internal/v1/identity`), for services in other processes:
//! `IdentityClient` over HTTP. `crate::remote` is their client.

use crate::app::Identity;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use ordo_contracts::identity::{Contact, IdentityClient};
use ordo_http::Problem;
use ordo_kernel::PostalAddress;
use ordo_kit::internal::answer;
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

/// `?q=&limit=` of `GET /users`.
#[derive(Debug, Deserialize)]
pub(crate) struct Found {
    pub q: String,
    pub limit: usize,
}

pub fn router(identity: Arc<Identity>) -> axum::Router {
    axum::Router::new()
        .route("/users", get(find_users))
        .route("/users/{id}/contact", get(contact))
        .route("/users/{id}/addresses/{address}", get(address))
        .route("/administrators", get(administrators))
        .with_state(identity)
}

async fn contact(
    State(identity): State<Arc<Identity>>,
    Path(id): Path<Uuid>,
) -> Result<Json<Option<Contact>>, Problem> {
    answer(IdentityClient::contact(&*identity, id).await)
}

async fn address(
    State(identity): State<Arc<Identity>>,
    Path((id, address)): Path<(Uuid, Uuid)>,
) -> Result<Json<Option<PostalAddress>>, Problem> {
    answer(IdentityClient::address(&*identity, id, address).await)
}

async fn administrators(State(identity): State<Arc<Identity>>) -> Result<Json<Vec<Uuid>>, Problem> {
    answer(IdentityClient::administrators(&*identity).await)
}

async fn find_users(
    State(identity): State<Arc<Identity>>,
    Query(found): Query<Found>,
) -> Result<Json<Vec<Uuid>>, Problem> {
    answer(IdentityClient::find_users(&*identity, &found.q, found.limit).await)
}
