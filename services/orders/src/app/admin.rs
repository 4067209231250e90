//! The operators' order finding: any order on the platform by its id, the beginning of
//! one or its reference, its customer's email or name, its merchant's name and filters;
//! and one order's whole timeline, told by every service that did something for it.

use super::{AppError, Orders};
use crate::domain::{HistoryEntry, IdQuery, Order, OrderSearch, Status};
use crate::store::orders::{self, Named};
use ordo_contracts::identity::Contact;
use ordo_contracts::timeline::{OrderTimeline, TimelineEntry};
use ordo_contracts::{ClientError, MAX_FOUND};
use ordo_kernel::{Caller, Page, PageRequest, Role};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use uuid::Uuid;

/// An order found, with whom it concerns as other services name them now (for display;
/// `None` when they no longer know them).
#[derive(Debug, Clone)]
pub struct FoundOrder {
    pub order: Order,
    pub customer: Option<Contact>,
    pub merchant_name: Option<String>,
}

fn admin_only(caller: &Caller) -> Result<(), AppError> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only administrators look through every order",
        ))
    }
}

/// A status change in words: who moved the order, and why.
fn status_entry(h: HistoryEntry) -> TimelineEntry {
    let summary = match h.from {
        None => format!("{} by the {} ({})", label(h.to), h.actor, h.cause),
        Some(from) => format!(
            "{} \u{2192} {} by the {}: {}",
            label(from),
            label(h.to),
            h.actor,
            h.cause
        ),
    };
    TimelineEntry {
        at: h.at,
        service: crate::NAME,
        kind: "status_changed".to_owned(),
        summary,
        trace_id: h.trace_id,
    }
}

fn label(status: Status) -> String {
    match status {
        Status::PendingPayment => "Placed, awaiting payment".to_owned(),
        other => other.as_str().replace('_', " "),
    }
}

impl Orders {
    /// Orders newest first matching `search`, with their customer and merchant named.
    ///
    /// # Errors
    /// `Forbidden` for anyone but an administrator; a service that names customers or
    /// merchants failing.
    pub async fn find_orders(
        &self,
        caller: &Caller,
        search: &OrderSearch,
        page: PageRequest,
    ) -> Result<Page<FoundOrder>, AppError> {
        admin_only(caller)?;
        let named = match search.query.as_deref() {
            Some(query) => Some(Named {
                id: IdQuery::parse(query),
                customers: self.clients.identity.find_users(query, MAX_FOUND).await?,
                merchants: self
                    .clients
                    .catalog
                    .find_merchants(query, MAX_FOUND)
                    .await?,
            }),
            None => None,
        };
        let rows = orders::search(
            &self.db,
            search,
            named.as_ref(),
            page.after.map(|c| c.0),
            page.fetch_limit(),
        )
        .await?;
        let page = Page::from_rows(rows, page, |o| o.id);
        let mut customers: HashMap<Uuid, Option<Contact>> = HashMap::new();
        let mut merchants: HashMap<Uuid, Option<String>> = HashMap::new();
        for order in &page.items {
            if let Entry::Vacant(slot) = customers.entry(order.customer_id) {
                slot.insert(self.clients.identity.contact(order.customer_id).await?);
            }
            if let Entry::Vacant(slot) = merchants.entry(order.merchant_id) {
                let merchant = self.clients.catalog.merchant(order.merchant_id).await?;
                slot.insert(merchant.map(|m| m.name));
            }
        }
        Ok(page.map(|order| FoundOrder {
            customer: customers.get(&order.customer_id).cloned().flatten(),
            merchant_name: merchants.get(&order.merchant_id).cloned().flatten(),
            order,
        }))
    }

    /// The order (with its lines) and everything that happened to it in every service, in
    /// time order. A service that cannot be asked is one entry saying so.
    ///
    /// # Errors
    /// `Forbidden` for anyone but an administrator; `NotFound` for no such order.
    pub async fn timeline(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(FoundOrder, Vec<TimelineEntry>), AppError> {
        admin_only(caller)?;
        let order = self.order(caller, id).await?;
        let history = orders::history(&self.db, id).await?;
        let sources: [(&'static str, &dyn OrderTimeline); 4] = [
            ("inventory", self.clients.inventory.as_ref()),
            ("payments", self.clients.payments.as_ref()),
            ("delivery", self.clients.delivery.as_ref()),
            ("notifications", self.clients.notifications.as_ref()),
        ];
        let told =
            futures_util::future::join_all(sources.iter().map(|(_, s)| s.timeline(id))).await;
        let mut entries: Vec<TimelineEntry> = history.into_iter().map(status_entry).collect();
        for ((service, _), answer) in sources.iter().zip(told) {
            match answer {
                Ok(theirs) => entries.extend(theirs),
                Err(error) => entries.push(unanswered(service, &error)),
            }
        }
        entries.sort_by_key(|e| e.at);
        let customer = self.clients.identity.contact(order.customer_id).await?;
        let merchant_name = self
            .clients
            .catalog
            .merchant(order.merchant_id)
            .await?
            .map(|m| m.name);
        Ok((
            FoundOrder {
                order,
                customer,
                merchant_name,
            },
            entries,
        ))
    }
}

/// What stands in a timeline for a service that could not be asked: now, saying why.
fn unanswered(service: &'static str, error: &ClientError) -> TimelineEntry {
    tracing::warn!(service, %error, "a service could not tell its part of an order's timeline");
    TimelineEntry {
        at: ordo_kernel::time::now(),
        service,
        kind: "unavailable".to_owned(),
        summary: format!("Could not be asked: {error}"),
        trace_id: None,
    }
}
