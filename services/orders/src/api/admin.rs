//! The operators' view of every order: those under way, counted; any order found; one
//! order's whole timeline across services.

use super::orders::OrderView;
use crate::app::{FoundOrder, OpenCount, Orders};
use crate::domain::{MAX_QUERY, OrderSearch, Status};
use axum::extract::State;
use ordo_contracts::timeline::TimelineEntry;
use ordo_http::{Authenticated, FieldError, Json, Path, Problem, Query};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

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

fn status_name() -> utoipa::openapi::schema::Object {
    let names: Vec<&str> = Status::ALL.map(Status::as_str).to_vec();
    ordo_kernel::schema::one_of(&names, false)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindOrders {
    /// An order's id, its beginning (at least 4 hex digits, dashes optional) or its
    /// reference (the last 8), a customer's email (exact) or part of their name, or part
    /// of a merchant's name; 1 to 100 characters, any case.
    #[param(min_length = 1, max_length = 100, pattern = r"\S")]
    q: Option<String>,
    /// Only orders in this status.
    #[param(schema_with = status_name)]
    status: Option<String>,
    /// Only this merchant's orders.
    merchant_id: Option<Uuid>,
    /// Placed at or after this RFC 3339 instant.
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")]
    from: Option<String>,
    /// Placed at or before this RFC 3339 instant (not before `from`).
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")]
    to: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl FindOrders {
    /// The search it asks for, or what is wrong with it (all of it at once).
    fn search(&self) -> Result<OrderSearch, Problem> {
        let mut errors = Vec::new();
        let query = self.q.as_deref().map(str::trim);
        if query.is_some_and(|q| q.is_empty() || q.chars().count() > MAX_QUERY) {
            errors.push(FieldError::new(
                "q",
                format!("must be 1 to {MAX_QUERY} characters besides spaces"),
            ));
        } else if query.is_some_and(|q| q.chars().any(char::is_control)) {
            errors.push(FieldError::new("q", "must not hold control characters"));
        }
        let status = match self.status.as_deref().map(str::parse::<Status>).transpose() {
            Ok(status) => status,
            Err(e) => {
                errors.push(FieldError::new("status", e));
                None
            }
        };
        let mut instant = |field: &str, text: Option<&String>| {
            text.map(|t| OffsetDateTime::parse(t.trim(), &Rfc3339))
                .transpose()
                .unwrap_or_else(|_| {
                    errors.push(FieldError::new(field, "must be an RFC 3339 instant"));
                    None
                })
        };
        let from = instant("from", self.from.as_ref());
        let to = instant("to", self.to.as_ref());
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            errors.push(FieldError::new("to", "must not be before from"));
        }
        if errors.is_empty() {
            Ok(OrderSearch {
                query: query.map(str::to_owned),
                status,
                merchant_id: self.merchant_id,
                from,
                to,
            })
        } else {
            Err(Problem::validation(errors))
        }
    }
}

/// Whom an order concerns, as identity names them now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    name: String,
    email: String,
}

/// An order as operators find it: the order, with its customer and merchant named (absent
/// when those services no longer know them).
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundOrderView {
    #[serde(flatten)]
    order: OrderView,
    customer: Option<CustomerView>,
    merchant_name: Option<String>,
}

impl From<FoundOrder> for FoundOrderView {
    fn from(found: FoundOrder) -> Self {
        FoundOrderView {
            order: OrderView::from(&found.order),
            customer: found.customer.map(|c| CustomerView {
                name: c.name,
                email: c.email,
            }),
            merchant_name: found.merchant_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FoundOrders {
    items: Vec<FoundOrderView>,
    next_cursor: Option<String>,
}

/// Every order on the platform, newest first, that matches every filter given
/// (administrators).
#[utoipa::path(get, path = "/admin/orders", tag = "admin", security(("bearer" = [])),
    params(FindOrders),
    responses(
        (status = 200, description = "A page of orders", body = FoundOrders),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 422, description = "A filter out of range, or from after to", body = Problem),
    ))]
pub async fn find(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Query(query): Query<FindOrders>,
) -> Result<Json<FoundOrders>, Problem> {
    let search = query.search()?;
    let page = ordo_http::page_request(query.limit, query.cursor.as_deref())?;
    let page = orders.find_orders(&caller, &search, page).await?;
    Ok(Json(FoundOrders {
        next_cursor: page.next_cursor,
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntryView {
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// `orders`, `inventory`, `payments`, `delivery` or `notifications`.
    service: &'static str,
    /// What happened, as a code (`status_changed`, `authorised`, `offer_made` …).
    kind: String,
    /// What happened, in words.
    summary: String,
    /// The trace it happened in (32 hex digits), where the service kept it.
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
}

impl From<TimelineEntry> for TimelineEntryView {
    fn from(e: TimelineEntry) -> Self {
        TimelineEntryView {
            at: e.at,
            service: e.service,
            kind: e.kind,
            summary: e.summary,
            trace_id: e.trace_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineView {
    order: FoundOrderView,
    /// Oldest first.
    entries: Vec<TimelineEntryView>,
}

/// The order and everything that happened to it in every service, in time order
/// (administrators).
#[utoipa::path(get, path = "/admin/orders/{id}/timeline", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order and its timeline", body = TimelineView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such order", body = Problem),
    ))]
pub async fn timeline(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<TimelineView>, Problem> {
    let (order, entries) = orders.timeline(&caller, id).await?;
    Ok(Json(TimelineView {
        order: order.into(),
        entries: entries.into_iter().map(Into::into).collect(),
    }))
}
