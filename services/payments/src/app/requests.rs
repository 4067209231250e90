//! Requests to the provider. A consumer records what it asks (`ask`) in its own
//! transaction; `make_requests`, woken as those commit, asks the provider with no
//! transaction open — a slow provider never holds a database writer — then records the
//! answer and deletes the request in one short transaction. A crash between the answer
//! and its record asks again with the same idempotency key; the record is conditional, so
//! the answer is published once.

use super::{AppError, Payments};
use crate::domain::{Charge, ProviderRequest, RequestAction, in_order, retry_after};
use crate::store;
use futures_util::{StreamExt, TryStreamExt};
use ordo_bus::{EventMeta, Failure};
use ordo_db::Tx;
use ordo_kernel::trace::TraceContext;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Notify;
use tracing::Instrument;
use uuid::Uuid;

/// Requests made in one pass at most; the pass after takes the rest.
const BATCH: i64 = 100;
/// Orders whose requests are made at once: the provider is asked for many side by side,
/// and the records of their answers share a commit.
const ORDERS_AT_ONCE: usize = 32;

impl Payments {
    /// The order was placed, or its customer chose another card after a decline: its
    /// authorisation (`charge`, the attempt's) is to be asked — unless the order ended
    /// already, its end handled before, when there is nothing to hold.
    ///
    /// # Errors
    /// The database failing.
    pub async fn authorisation_due(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        charge: Charge,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        if store::has_ended(&mut *tx, order_id).await? {
            tracing::warn!(order.id = %order_id, "the order ended before its authorisation was asked: nothing to authorise");
            return Ok(());
        }
        self.ask(tx, order_id, RequestAction::Authorize, Some(charge), meta)
            .await
    }

    /// The order ended before capture (`reason`: cancelled, rejected): remembered, so that
    /// a placement handled after it authorises nothing, and its authorisation is to be
    /// voided (after the authorisation, when that is still to be made).
    ///
    /// # Errors
    /// The database failing.
    pub async fn order_ended(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        reason: &str,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        store::record_end(tx, order_id, reason, ordo_kernel::time::now()).await?;
        self.ask(tx, order_id, RequestAction::Void, None, meta)
            .await
    }

    /// Records that `action` is to be asked of the provider for the order, in the
    /// transaction of the event that asks it (`meta` names that event's trace).
    pub(crate) async fn ask(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        action: RequestAction,
        charge: Option<Charge>,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let now = ordo_kernel::time::now();
        let request = ProviderRequest {
            order_id,
            action,
            charge,
            traceparent: meta.traceparent.clone(),
            correlationid: meta.correlationid.clone(),
            attempts: 0,
            not_before: now,
            created_at: now,
        };
        store::insert_request(tx, &request).await?;
        Ok(())
    }

    /// Notified when requests may be waiting: after the consumer that records them commits.
    #[must_use]
    pub fn requests_recorded(&self) -> Arc<Notify> {
        self.requests_recorded.clone()
    }

    /// Makes the requests due at `now`, each order's in turn (its authorisation before its
    /// capture or void), orders side by side so that their records commit together; how
    /// many were answered. One the provider could not answer waits, doubling from a second
    /// to a minute, and the order's later ones with it.
    ///
    /// # Errors
    /// The database failing.
    pub async fn make_requests(&self, now: OffsetDateTime) -> Result<usize, AppError> {
        let mut due = store::due_requests(&self.db, now, BATCH).await?;
        in_order(&mut due);
        // Made first, so that no closure over a borrowed slice is part of this future.
        let orders: Vec<_> = due
            .chunk_by(|a, b| a.order_id == b.order_id)
            .map(|requests| self.make_in_turn(requests, now))
            .collect();
        futures_util::stream::iter(orders)
            .buffer_unordered(ORDERS_AT_ONCE)
            .try_fold(0, |answered, n| async move { Ok(answered + n) })
            .await
    }

    /// Makes one order's due requests in turn, until one is not answered; how many were.
    async fn make_in_turn(
        &self,
        requests: &[ProviderRequest],
        now: OffsetDateTime,
    ) -> Result<usize, AppError> {
        let mut answered = 0;
        for request in requests {
            let waits_for_authorisation = request.action != RequestAction::Authorize
                && store::has_request(&self.db, request.order_id, RequestAction::Authorize).await?;
            if waits_for_authorisation {
                continue;
            }
            let span = tracing::info_span!(
                "provider_request",
                order.id = %request.order_id,
                action = request.action.as_str(),
                attempt = request.attempts + 1,
                trace.id = tracing::field::Empty,
            );
            let parent = request.traceparent.as_deref().and_then(TraceContext::parse);
            let trace = ordo_telemetry::join(&span, parent);
            span.record("trace.id", trace.trace_id_hex());
            if let Err(error) = self.make(request, &trace).instrument(span).await {
                let transient = error.is_transient();
                let attempts = request.attempts + 1;
                let wait = retry_after(attempts);
                let error = error.describe();
                if transient {
                    tracing::warn!(order.id = %request.order_id, attempts, %error, "provider request failed; asking again later");
                } else {
                    tracing::error!(order.id = %request.order_id, attempts, %error, "provider request failed; asking again later");
                }
                let mut tx = self.db.begin().await?;
                let (order, action) = (request.order_id, request.action);
                store::postpone_request(&mut tx, order, action, attempts, now + wait).await?;
                tx.commit().await?;
                // The order's later requests wait behind this one.
                return Ok(answered);
            }
            answered += 1;
        }
        Ok(answered)
    }

    /// Asks the provider, in the request's span at `trace`: the events the answer publishes
    /// are that span's children.
    async fn make(&self, request: &ProviderRequest, trace: &TraceContext) -> Result<(), AppError> {
        let meta = EventMeta {
            traceparent: Some(trace.to_string()),
            correlationid: request.correlationid.clone(),
        };
        match (request.action, &request.charge) {
            (RequestAction::Authorize, Some(charge)) => {
                self.authorise(request, charge, &meta).await
            }
            (RequestAction::Authorize, None) => Err(AppError::Unexpected(anyhow::anyhow!(
                "an authorisation request without its charge"
            ))),
            (RequestAction::Void, _) => self.void(request, &meta).await,
            (RequestAction::Capture, _) => self.capture(request, &meta).await,
        }
    }

    /// The request is answered: it goes with the answer's record in `tx`.
    pub(super) async fn answered(
        &self,
        mut tx: Tx,
        request: &ProviderRequest,
    ) -> Result<(), AppError> {
        store::timeline::record_answer(&mut tx, request, ordo_kernel::time::now()).await?;
        store::delete_request(&mut tx, request.order_id, request.action).await?;
        self.outbox.commit(tx).await?;
        Ok(())
    }
}
