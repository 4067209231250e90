//! Delivery's part of an order's timeline (`ordo_contracts::timeline`): the delivery
//! opened, each offer and its answer, the courier assigned, the pick-up, the drop-off,
//! and when the courier last reported a position (only the last is kept); each in the
//! trace of the request, event or sweep that did it.

use super::Delivery;
use crate::store::{self, timeline as steps};
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

fn failed(error: &ordo_db::Error) -> ClientError {
    ClientError::failed(crate::NAME, error.is_unavailable(), error)
}

fn entry(
    at: time::OffsetDateTime,
    kind: &str,
    summary: String,
    traceparent: Option<&String>,
) -> TimelineEntry {
    TimelineEntry::new(
        crate::NAME,
        at,
        kind,
        summary,
        traceparent.map(String::as_str),
    )
}

impl Delivery {
    async fn courier_named(&self, id: Uuid) -> String {
        self.name_of(id)
            .await
            .unwrap_or_else(|| format!("courier {}", &id.simple().to_string()[24..]))
    }
}

impl OrderTimeline for Delivery {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(async move {
            let db = &self.db;
            let found = store::delivery_for_order(db, order_id)
                .await
                .map_err(|e| failed(&e))?;
            let Some(delivery) = found else {
                return Ok(Vec::new());
            };
            let traces = steps::step_traces(db, delivery.id)
                .await
                .map_err(|e| failed(&e))?;
            let mut entries = vec![entry(
                delivery.created_at,
                "delivery_opened",
                format!(
                    "Delivery opened: from {} to {}",
                    delivery.pickup.name, delivery.drop_off.address
                ),
                traces.opened.as_ref(),
            )];
            for offer in steps::offers(db, delivery.id)
                .await
                .map_err(|e| failed(&e))?
            {
                let courier = self.courier_named(offer.courier_id).await;
                entries.push(entry(
                    offer.created_at,
                    "offer_made",
                    format!("Offered to {courier}, {:.1} km away", offer.distance_km),
                    offer.made_traceparent.as_ref(),
                ));
                let answer = match offer.status.as_str() {
                    "accepted" => Some(("offer_accepted", format!("{courier} accepted"))),
                    "declined" => Some(("offer_declined", format!("{courier} declined"))),
                    "expired" => Some(("offer_expired", format!("{courier} did not answer"))),
                    "withdrawn" => {
                        Some(("offer_withdrawn", format!("Offer to {courier} withdrawn")))
                    }
                    _ => None,
                };
                if let Some((kind, summary)) = answer {
                    let at = offer.answered_at.unwrap_or(offer.expires_at);
                    entries.push(entry(
                        at,
                        kind,
                        summary,
                        offer.answered_traceparent.as_ref(),
                    ));
                }
            }
            if let Some(at) = delivery.escalated_at {
                entries.push(entry(
                    at,
                    "escalated",
                    "No courier took it in time: operators told".to_owned(),
                    traces.escalated.as_ref(),
                ));
            }
            if let Some(at) = delivery.redispatched_at {
                entries.push(entry(
                    at,
                    "redispatched",
                    "Offered again by an operator".into(),
                    traces.redispatched.as_ref(),
                ));
            }
            if let (Some(at), Some(courier_id)) = (delivery.assigned_at, delivery.courier_id) {
                let courier = self.courier_named(courier_id).await;
                entries.push(entry(
                    at,
                    "assigned",
                    format!("Assigned to {courier}"),
                    traces.assigned.as_ref(),
                ));
                let located = steps::located_at(db, courier_id)
                    .await
                    .map_err(|e| failed(&e))?;
                let carrying = located.filter(|(l, _)| {
                    *l >= at && delivery.delivered_at.is_none_or(|done| *l <= done)
                });
                if let Some((last, trace)) = carrying {
                    entries.push(entry(
                        last,
                        "position_reported",
                        format!("{courier} last reported a position"),
                        trace.as_ref(),
                    ));
                }
            }
            if let Some(at) = delivery.picked_up_at {
                entries.push(entry(
                    at,
                    "picked_up",
                    "Picked up at the shop".into(),
                    traces.picked_up.as_ref(),
                ));
            }
            if let Some(at) = delivery.delivered_at {
                entries.push(entry(
                    at,
                    "delivered",
                    "Delivered".into(),
                    traces.delivered.as_ref(),
                ));
            }
            entries.sort_by_key(|e| e.at);
            Ok(entries)
        })
    }
}
