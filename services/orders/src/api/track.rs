//! `GET /orders/{id}/track`: an order's way as server-sent events.

use super::orders::HistoryView;
use crate::app::{Orders, Transitions};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use ordo_contracts::delivery::{ToPickup, Tracking};
use ordo_http::{Authenticated, Path, Problem, StreamPass};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The order's delivery: who carries it and where they are.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// `searching`, `offered`, `assigned`, `picked_up`, `delivered` or `cancelled`.
    status: String,
    courier_id: Option<Uuid>,
    /// The courier's name, once one has it.
    courier_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionView {
    lat: f64,
    lon: f64,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// Seconds until the order reaches its customer.
    eta_secs: i64,
    /// While the courier is on the way to the merchant.
    to_pickup: Option<ToPickupView>,
}

/// A courier on the way to the merchant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToPickupView {
    distance_km: f64,
    /// Seconds until the courier reaches the merchant.
    eta_secs: i64,
    /// At the merchant's door: ready to be handed the order.
    arrived: bool,
}

impl From<ToPickup> for ToPickupView {
    fn from(way: ToPickup) -> Self {
        ToPickupView {
            distance_km: way.distance_km,
            eta_secs: way.eta_secs,
            arrived: way.arrived,
        }
    }
}

/// A delivery order's delivery as its merchant's board shows it: searching for a courier,
/// or who is coming and how near.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardDeliveryView {
    /// `searching`, `offered`, `assigned`, `picked_up`, `delivered` or `cancelled`.
    status: String,
    courier_name: Option<String>,
    /// While the courier is on the way, once they reported where they are.
    to_pickup: Option<ToPickupView>,
}

impl From<Tracking> for BoardDeliveryView {
    fn from(tracking: Tracking) -> Self {
        BoardDeliveryView {
            status: tracking.status,
            courier_name: tracking.courier_name,
            to_pickup: tracking.position.and_then(|p| p.to_pickup).map(Into::into),
        }
    }
}

/// What the stream has sent, to send only what changed.
struct Sent {
    after: Option<Uuid>,
    delivery: Option<(String, Option<Uuid>, Option<String>)>,
    position_at: Option<OffsetDateTime>,
    ended: bool,
}

impl Sent {
    /// The events that bring a client from what it has to now, given the transitions it
    /// has yet to see.
    async fn news(
        &mut self,
        orders: &Orders,
        id: Uuid,
        transitions: Transitions,
    ) -> Result<VecDeque<Event>, BoxError> {
        let mut events = VecDeque::new();
        for entry in transitions.entries {
            self.after = Some(entry.id);
            events.push_back(
                Event::default()
                    .event("status")
                    .id(entry.id.to_string())
                    .json_data(HistoryView::from(entry))?,
            );
        }
        // Also when the client resumes after the last transition: it has all there is.
        self.ended = transitions.ended;
        if let Some(Tracking {
            status,
            courier_id,
            courier_name,
            position,
        }) = orders.tracking(id).await?
        {
            let delivery = Some((status.clone(), courier_id, courier_name.clone()));
            if delivery != self.delivery {
                self.delivery = delivery;
                let view = DeliveryView {
                    status,
                    courier_id,
                    courier_name,
                };
                events.push_back(Event::default().event("delivery").json_data(view)?);
            }
            if let Some(p) = position.filter(|p| Some(p.located_at) != self.position_at) {
                self.position_at = Some(p.located_at);
                let view = PositionView {
                    lat: p.lat,
                    lon: p.lon,
                    at: p.located_at,
                    eta_secs: p.eta_secs,
                    to_pickup: p.to_pickup.map(Into::into),
                };
                events.push_back(Event::default().event("position").json_data(view)?);
            }
        }
        if self.ended {
            events.push_back(
                Event::default()
                    .event("end")
                    .data("the order reached its end"),
            );
        }
        Ok(events)
    }
}

/// Follow an order live (its customer, its merchant's staff, its courier, admins), as
/// server-sent events: `status` for each transition (`id` = the transition's, send it back
/// as `Last-Event-ID` to resume; without it the stream starts with the whole history),
/// `delivery` when its delivery changes hands or steps, `position` with the courier's place
/// and ETA as the courier reports it, and `end` once the order is completed, cancelled or
/// rejected (at once when it was already), after which the stream closes. It also closes,
/// without `end`, when the access token expires or the user's sessions end: resume it, with
/// new tokens. A user holds `http.streams_per_user` streams at most.
#[utoipa::path(get, path = "/orders/{id}/track", tag = "orders", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Order id"),
        ("Last-Event-ID" = Option<Uuid>, Header, description = "Resume after this transition"),
    ),
    responses(
        (status = 200, description = "text/event-stream of HistoryView (status), DeliveryView (delivery), PositionView (position)"),
        (status = 404, description = "No such order, or not the caller's", body = Problem),
        (status = 422, description = "`Last-Event-ID` is not the id of one of the order's transitions", body = Problem),
        (status = 429, description = "The caller has as many streams open as allowed; retry after Retry-After seconds", body = Problem),
    ))]
pub async fn track(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    pass: StreamPass,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, axum::Error>>>, Problem> {
    let after = ordo_http::last_event_id(&headers, "a transition of the order")?;
    orders.order(&caller, id).await?;
    // Read before the stream starts, so that resuming from a transition the order never
    // had is refused rather than waited on.
    let first = orders.transitions_after(id, after).await?;
    let sent = Sent {
        after,
        delivery: None,
        position_at: None,
        ended: false,
    };
    let wakes = orders.wakes(id);
    let state = (orders, sent, VecDeque::<Event>::new(), Some(first), wakes);
    let events = futures_util::stream::unfold(
        state,
        move |(orders, mut sent, mut queue, mut first, wakes)| async move {
            loop {
                if let Some(event) = queue.pop_front() {
                    return Some((Ok(event), (orders, sent, queue, first, wakes)));
                }
                if sent.ended {
                    return None;
                }
                // Interest first, then the look: a change committed in between still
                // wakes us.
                let moved = wakes.order.notified();
                let changed = wakes.delivery.notified();
                tokio::pin!(moved, changed);
                moved.as_mut().enable();
                changed.as_mut().enable();
                // The transitions read before the stream began came before any interest:
                // nothing found there is no reason to wait.
                let (transitions, looked) = match first.take() {
                    Some(transitions) => (Ok(transitions), false),
                    None => (orders.transitions_after(id, sent.after).await, true),
                };
                let news = match transitions {
                    Ok(transitions) => sent.news(&orders, id, transitions).await,
                    Err(error) => Err(error.into()),
                };
                match news {
                    Ok(news) if news.is_empty() => {
                        if looked {
                            tokio::select! {
                                () = moved => {}
                                () = changed => {}
                            }
                        }
                    }
                    Ok(news) => queue = news,
                    Err(error) => {
                        tracing::warn!(order.id = %id, %error, "tracking stream ends");
                        return None;
                    }
                }
            }
        },
    );
    Ok(Sse::new(pass.follow(events)).keep_alive(KeepAlive::default()))
}
