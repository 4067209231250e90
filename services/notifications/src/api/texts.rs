use crate::app::Notifications;
use crate::store::sms::SmsRecord;
use axum::extract::State;
use ordo_http::{Authenticated, Json, Problem, Query};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct SmsView {
    id: Uuid,
    /// The notification it told.
    notification_id: Uuid,
    user_id: Uuid,
    /// The phone number, in E.164.
    to: String,
    body: String,
    /// `sandbox` (recorded, sent nowhere) or `http`.
    provider: String,
    /// `sent`, or `failed` (then retried, each attempt listed).
    status: &'static str,
    error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

impl From<SmsRecord> for SmsView {
    fn from(record: SmsRecord) -> Self {
        SmsView {
            id: record.id,
            notification_id: record.notification_id,
            user_id: record.user_id,
            to: record.phone,
            body: record.body,
            provider: record.provider,
            status: if record.error.is_some() {
                "failed"
            } else {
                "sent"
            },
            error: record.error,
            at: record.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmsPage {
    items: Vec<SmsView>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SmsQuery {
    /// Only the messages to this user.
    user_id: Option<Uuid>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The text messages sent or tried, newest first: with the sandbox provider, the messages
/// themselves, sent nowhere else.
#[utoipa::path(get, path = "/admin/sms", tag = "notifications", security(("bearer" = [])),
    params(SmsQuery),
    responses(
        (status = 200, description = "A page of text messages", body = SmsPage),
        (status = 401, description = "No valid access token", body = Problem),
        (status = 403, description = "Not an administrator", body = Problem),
    ))]
pub async fn list(
    State(notifications): State<Arc<Notifications>>,
    Authenticated(caller): Authenticated,
    Query(query): Query<SmsQuery>,
) -> Result<Json<SmsPage>, Problem> {
    let page = ordo_http::page_request(query.limit, query.cursor.as_deref())?;
    let page = notifications
        .text_messages(&caller, query.user_id, page)
        .await?;
    Ok(Json(SmsPage {
        items: page.items.into_iter().map(SmsView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
