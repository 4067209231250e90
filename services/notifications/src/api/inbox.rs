use crate::app::Notifications;
use crate::domain::Notification;
use crate::domain::stream::StreamCursor;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use ordo_http::{Authenticated, Json, Path, Problem, Query, StreamPass};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// How often a live stream looks for messages filed by another instance.
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    id: Uuid,
    /// `order_placed`, `new_order`, `payment_failed`, `order_cancelled`, …
    kind: String,
    title: String,
    body: String,
    order_id: Option<Uuid>,
    read: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            order_id: n.order_id,
            read: n.read_at.is_some(),
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    items: Vec<NotificationView>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only unread ones.
    unread: Option<bool>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of notifications", body = NotificationPage)))]
pub async fn list(
    State(notifications): State<Arc<Notifications>>,
    Authenticated(caller): Authenticated,
    Query(query): Query<ListQuery>,
) -> Result<Json<NotificationPage>, Problem> {
    let page = ordo_http::page_request(query.limit, query.cursor.as_deref())?;
    let page = notifications
        .inbox(&caller, query.unread.unwrap_or(false), page)
        .await?;
    Ok(Json(NotificationPage {
        items: page.items.into_iter().map(NotificationView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Mark a notification read.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 404, description = "Not the caller's", body = Problem),
    ))]
pub async fn read(
    State(notifications): State<Arc<Notifications>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    notifications.mark_read(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark every unread notification of the caller read.
#[utoipa::path(post, path = "/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 204, description = "Every notification of the caller is read"),
        (status = 401, description = "No valid access token", body = Problem),
    ))]
pub async fn read_all(
    State(notifications): State<Arc<Notifications>>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, Problem> {
    notifications.mark_all_read(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// New notifications as server-sent events (`event: notification`, `id` = notification id).
/// Send `Last-Event-ID` to resume after a reconnect; without it the stream starts with what
/// arrives from now on, and its first message (an `id` alone) says where it started — the
/// newest notification, or the nil id when there is none — so that a break before the
/// first notification loses nothing either. It ends when the access token expires or the user's sessions end:
/// resume it, with new tokens. A user holds `http.streams_per_user` streams at most.
#[utoipa::path(get, path = "/notifications/stream", tag = "notifications", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<Uuid>, Header, description = "Resume after this notification")),
    responses(
        (status = 200, description = "text/event-stream of NotificationView"),
        (status = 422, description = "`Last-Event-ID` is not the id of one of the caller's notifications", body = Problem),
        (status = 429, description = "The caller has as many streams open as allowed; retry after Retry-After seconds", body = Problem),
    ))]
pub async fn stream(
    State(notifications): State<Arc<Notifications>>,
    Authenticated(caller): Authenticated,
    pass: StreamPass,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, axum::Error>>>, Problem> {
    let resume = ordo_http::last_event_id(&headers, "one of your notifications")?;
    let start = notifications.stream_start(&caller, resume).await?;
    let started_at = resume
        .is_none()
        .then(|| Ok::<_, axum::Error>(Event::default().id(start.unwrap_or_default().to_string())));
    let filed = notifications.filed_for(caller.user_id);
    let state = (
        notifications,
        caller,
        filed,
        StreamCursor::new(start),
        VecDeque::<Notification>::new(),
    );
    let events = futures_util::stream::unfold(
        state,
        |(notifications, caller, filed, mut cursor, mut queue)| async move {
            loop {
                if let Some(next) = queue.pop_front() {
                    let event = Event::default()
                        .event("notification")
                        .id(next.id.to_string())
                        .json_data(NotificationView::from(next));
                    return Some((event, (notifications, caller, filed, cursor, queue)));
                }
                // Interest first, then the look: a filing in between still wakes us.
                let woken = filed.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                match notifications.unsent(&caller, &mut cursor).await {
                    Ok(found) if !found.is_empty() => queue.extend(found),
                    Ok(_) => {
                        tokio::select! {
                            () = woken => {}
                            () = tokio::time::sleep(POLL) => {}
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "notification stream ends");
                        return None;
                    }
                }
            }
        },
    );
    let events = futures_util::StreamExt::chain(futures_util::stream::iter(started_at), events);
    Ok(Sse::new(pass.follow(events)).keep_alive(KeepAlive::default()))
}
