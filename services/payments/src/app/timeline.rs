//! Payments' part of an order's timeline (`ordo_contracts::timeline`): each request asked
//! of the provider (with the trace that asked), the authorisations' answers, the capture or
//! void, refunds, and requests the provider has yet to answer.

use super::Payments;
use crate::store::timeline::{self as store, Answer, PaymentSteps};
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

fn failed(error: &ordo_db::Error) -> ClientError {
    ClientError::failed(crate::NAME, error.is_unavailable(), error)
}

fn amount(minor: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", minor / 100, minor % 100)
}

fn entry(
    at: time::OffsetDateTime,
    kind: &str,
    summary: String,
    answer: Option<&Answer>,
) -> TimelineEntry {
    let trace = answer.and_then(|a| a.traceparent.as_deref());
    TimelineEntry::new(crate::NAME, at, kind, summary, trace)
}

fn asked(action: &str) -> &'static str {
    match action {
        "authorize" => "Authorisation",
        "capture" => "Capture",
        _ => "Void",
    }
}

/// Each request asked of the provider; the authorisations declined before the latest
/// attempt; the latest authorisation's answer and how the payment ended. Each with the
/// trace of the request it answers.
fn payment_entries(p: &PaymentSteps, answers: &[Answer]) -> Vec<TimelineEntry> {
    let money = amount(p.amount, &p.currency);
    let answer = |action: &str, attempt: i64| {
        answers
            .iter()
            .find(|a| a.action == action && (action != "authorize" || a.attempt == attempt))
    };
    let mut entries = Vec::new();
    for a in answers {
        let summary = if a.attempt > 1 {
            format!("{} {} asked of the provider", asked(&a.action), a.attempt)
        } else {
            format!("{} asked of the provider", asked(&a.action))
        };
        entries.push(entry(
            a.asked_at,
            &format!("{}_requested", a.action),
            summary,
            Some(a),
        ));
        if a.action == "authorize" && a.attempt < p.attempt {
            let summary = format!("Authorisation {} declined", a.attempt);
            entries.push(entry(
                a.answered_at,
                "authorisation_declined",
                summary,
                Some(a),
            ));
        }
    }
    let which = if p.attempt > 1 {
        format!("Authorisation {} (another card)", p.attempt)
    } else {
        "Authorisation".to_owned()
    };
    let authorisation = answer("authorize", p.attempt);
    entries.push(if p.status == "failed" {
        let reason = p.failure_reason.as_deref().unwrap_or("no reason given");
        let summary = format!("{which} of {money} declined: {reason}");
        entry(
            p.answered_at,
            "authorisation_declined",
            summary,
            authorisation,
        )
    } else {
        let summary = format!("{which} of {money} held on the card");
        entry(p.answered_at, "authorised", summary, authorisation)
    });
    if let Some(at) = p.settled_at {
        let (kind, summary, action) = match p.status.as_str() {
            "captured" => ("captured", format!("{money} captured"), "capture"),
            "voided" => ("voided", format!("Authorisation of {money} voided"), "void"),
            _ => (
                "capture_failed",
                format!("Capture of {money} refused"),
                "capture",
            ),
        };
        entries.push(match answer(action, 1) {
            Some(asked) => entry(at, kind, summary, Some(asked)),
            // Settled without asking the provider: by its webhook, in that request's trace.
            None => TimelineEntry::new(
                crate::NAME,
                at,
                kind,
                summary,
                p.settled_traceparent.as_deref(),
            ),
        });
    }
    entries
}

impl OrderTimeline for Payments {
    fn timeline(&self, order_id: Uuid) -> ClientFuture<'_, Vec<TimelineEntry>> {
        Box::pin(async move {
            let db = &self.db;
            let payment = store::payment(db, order_id).await.map_err(|e| failed(&e))?;
            let answers = store::answers(db, order_id).await.map_err(|e| failed(&e))?;
            let mut entries = Vec::new();
            if let Some(payment) = &payment {
                entries.extend(payment_entries(payment, &answers));
                for refund in store::refunds(db, order_id).await.map_err(|e| failed(&e))? {
                    let state = if refund.status == "pending" {
                        "asked of the provider"
                    } else {
                        "made"
                    };
                    let money = amount(refund.amount, &payment.currency);
                    let summary = format!("Refund of {money} {state}");
                    entries.push(TimelineEntry::new(
                        crate::NAME,
                        refund.created_at,
                        "refund",
                        summary,
                        refund.traceparent.as_deref(),
                    ));
                }
            }
            for request in store::pending_requests(db, order_id)
                .await
                .map_err(|e| failed(&e))?
            {
                entries.push(TimelineEntry::new(
                    crate::NAME,
                    request.created_at,
                    "request_pending",
                    format!(
                        "{} waiting for the provider, asked {} times",
                        asked(&request.action),
                        request.attempts
                    ),
                    request.traceparent.as_deref(),
                ));
            }
            entries.sort_by_key(|e| e.at);
            Ok(entries)
        })
    }
}
