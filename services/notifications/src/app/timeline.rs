//! Notifications' part of an order's timeline (`ordo_contracts::timeline`): each message
//! about the order, to whom, on which channel, sent or failed.

use super::Notifications;
use crate::store::timeline as store;
use ordo_contracts::notifications::NotificationsClient;
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

impl OrderTimeline for Notifications {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(async move {
            let sent = store::sent(&self.db, order_id)
                .await
                .map_err(|error| ClientError::failed(crate::NAME, error.is_unavailable(), error))?;
            Ok(sent
                .into_iter()
                .map(|m| {
                    let channel = match m.channel.as_str() {
                        "email" => "By email",
                        "sms" => "By SMS",
                        _ => "In the app",
                    };
                    let to = match m.recipient.as_str() {
                        "customer" => "the customer",
                        "staff" => "the shop's staff",
                        _ => "a courier",
                    };
                    let outcome = match (m.status.as_str(), m.error) {
                        ("failed", Some(error)) => format!(", failed: {error}"),
                        ("failed", None) => ", failed".to_owned(),
                        _ => String::new(),
                    };
                    TimelineEntry {
                        at: m.at,
                        service: crate::NAME,
                        kind: format!("{}_{}", m.kind, m.channel),
                        summary: format!("{channel} to {to}: \u{201c}{}\u{201d}{outcome}", m.title),
                        trace_id: m.trace_id,
                    }
                })
                .collect())
        })
    }
}

impl NotificationsClient for Notifications {}
