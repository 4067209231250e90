//! The operators' view of every order under way.

use crate::app::{OpenCount, Orders};
use axum::extract::State;
use ordo_http::{Authenticated, Json, Problem};
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenCountView {
    /// `pending_payment`, `payment_failed`, `paid`, `accepted`, `ready`, `picked_up` or
    /// `shipped`.
    status: &'static str,
    count: i64,
    /// When the order that has waited longest in this status entered it.
    #[serde(with = "time::serde::rfc3339")]
    oldest_since: OffsetDateTime,
}

impl From<OpenCount> for OpenCountView {
    fn from(c: OpenCount) -> Self {
        OpenCountView {
            status: c.status.as_str(),
            count: c.count,
            oldest_since: c.oldest_since,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenOrders {
    /// Only the statuses some order is in, in the order of the lifecycle.
    statuses: Vec<OpenCountView>,
}

/// The orders not yet completed, cancelled or rejected, counted by status, with the longest
/// wait in each (administrators).
#[utoipa::path(get, path = "/admin/orders/open", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts by status", body = OpenOrders),
        (status = 403, description = "Not an administrator", body = Problem),
    ))]
pub async fn open(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<OpenOrders>, Problem> {
    let statuses = orders.open_counts(&caller).await?;
    Ok(Json(OpenOrders {
        statuses: statuses.into_iter().map(Into::into).collect(),
    }))
}
