//! Payments' part of an order's timeline (`ordo_contracts::timeline`): the authorisation
//! and its answer, the capture or void, refunds, and requests the provider has yet to
//! answer (with the trace that asked).

use super::Payments;
use crate::store::timeline::{self as store, PaymentSteps};
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

fn failed(error: &sqlx::Error) -> ClientError {
    ClientError::failed(crate::NAME, ordo_db::is_unavailable(error), error)
}

fn amount(minor: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", minor / 100, minor % 100)
}

fn entry(at: time::OffsetDateTime, kind: &str, summary: String) -> TimelineEntry {
    TimelineEntry::new(crate::NAME, at, kind, summary, None)
}

/// The latest authorisation's answer and how the payment ended.
fn payment_entries(p: &PaymentSteps) -> Vec<TimelineEntry> {
    let money = amount(p.amount, &p.currency);
    let which = if p.attempt > 1 {
        format!("Authorisation {} (another card)", p.attempt)
    } else {
        "Authorisation".to_owned()
    };
    let mut entries = vec![if p.status == "failed" {
        entry(
            p.answered_at,
            "authorisation_declined",
            format!(
                "{which} of {money} declined: {}",
                p.failure_reason.as_deref().unwrap_or("no reason given")
            ),
        )
    } else {
        entry(
            p.answered_at,
            "authorised",
            format!("{which} of {money} held on the card"),
        )
    }];
    if let Some(at) = p.settled_at {
        let (kind, summary) = match p.status.as_str() {
            "captured" => ("captured", format!("{money} captured")),
            "voided" => ("voided", format!("Authorisation of {money} voided")),
            _ => ("capture_failed", format!("Capture of {money} refused")),
        };
        entries.push(entry(at, kind, summary));
    }
    entries
}

impl OrderTimeline for Payments {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(async move {
            let reader = self.db.reader();
            let payment = store::payment(reader, order_id)
                .await
                .map_err(|e| failed(&e))?;
            let Some(payment) = payment else {
                return Ok(Vec::new());
            };
            let mut entries = payment_entries(&payment);
            for refund in store::refunds(reader, order_id)
                .await
                .map_err(|e| failed(&e))?
            {
                let state = if refund.status == "pending" {
                    "asked of the provider"
                } else {
                    "made"
                };
                entries.push(entry(
                    refund.created_at,
                    "refund",
                    format!(
                        "Refund of {} {state}",
                        amount(refund.amount, &payment.currency)
                    ),
                ));
            }
            for request in store::pending_requests(reader, order_id)
                .await
                .map_err(|e| failed(&e))?
            {
                entries.push(TimelineEntry::new(
                    crate::NAME,
                    request.created_at,
                    "request_pending",
                    format!(
                        "{} (attempt {}) waiting for the provider, asked {} times",
                        request.action, request.attempt, request.attempts
                    ),
                    request.traceparent.as_deref(),
                ));
            }
            entries.sort_by_key(|e| e.at);
            Ok(entries)
        })
    }
}
