//! The checkout: validate, claim the idempotency key (with the order id stock is reserved
//! for), price from the catalogue, reserve the stock, then the order, its first history
//! entry, `order.placed` and the stored answer in one transaction (one statement on
//! PostgreSQL) — kept only while the claim is still this checkout's.
//!
//! A checkout that fails after it may have reserved gives its claim up and announces the
//! order id abandoned (`checkout.abandoned`), so inventory gives the stock back. When even
//! that cannot be written (the database is down, the process died), the claim stays
//! running: a retry with the same key takes it over after `STALE_CLAIM` and goes on with
//! the same order id, so whatever the dead request reserved is reused; when no retry comes
//! within `ABANDON_AFTER`, the sweep (`abandon_stale_checkouts`) gives the claim up and
//! announces the order id abandoned.

use super::{AppError, Orders, OrdersError, Short};
use crate::domain::{Checkout, Fulfilment, HistoryEntry, Item, Order, PaymentState, Status, price};
use crate::events;
use crate::store::idempotency::{self, Claim, Held};
use crate::store::orders;
use ordo_bus::EventMeta;
use ordo_contracts::inventory::{Reservation, ReservationLine};
use ordo_kernel::trace::TraceContext;
use ordo_kernel::{PostalAddress, Violations};
use std::time::Duration;
use tracing::instrument;
use uuid::Uuid;

/// How long a claimed checkout may work before it gives up (and answers 503): a bound on
/// its claim whatever the configured timeouts.
const CHECKOUT_DEADLINE: Duration = Duration::from_secs(5);

/// A claim older than this was left by a request that died; it may be taken over. Twice
/// the deadline, so a live checkout's claim is never taken from it.
pub const STALE_CLAIM: Duration = Duration::from_secs(10);

/// A claim whose request died and that no retry took over in this long is given up and
/// its stock released: long enough for a client retrying after a crash or a timeout to
/// find its reservation again, short enough that stock is not held from other customers
/// for long.
pub const ABANDON_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub enum AddressChoice {
    None,
    Saved(Uuid),
    Given(PostalAddress),
}

/// Where the order's items come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemsSource {
    Given(Vec<Item>),
    /// The customer's cart, which is emptied once the order is paid.
    Cart,
}

/// A checkout as the API received it.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub customer_id: Uuid,
    pub idempotency_key: String,
    /// A hash of the canonical request: the same key with another body is refused.
    pub request_hash: String,
    pub items: ItemsSource,
    pub fulfilment: String,
    pub address: AddressChoice,
    pub payment_method_id: Option<Uuid>,
    pub tip: Option<i64>,
    pub notes: Option<String>,
    pub meta: EventMeta,
}

/// What the checkout answered.
#[derive(Debug)]
pub enum Placed {
    Created(Box<Order>),
    /// The same request came before: its stored answer.
    Replayed {
        status: u16,
        body: String,
    },
}

impl Orders {
    /// Places an order. `render` turns the new order into the response body that replays
    /// of the same request get.
    ///
    /// # Errors
    /// `Invalid`, `KeyReused`, `KeyInFlight`, `OutOfStock`.
    #[instrument(skip_all, fields(user.id = %request.customer_id))]
    pub async fn place_order(
        &self,
        request: PlaceOrder,
        render: impl Fn(&Order) -> String,
    ) -> Result<Placed, AppError> {
        let (items, from_cart) = match &request.items {
            ItemsSource::Given(items) => (items.clone(), false),
            ItemsSource::Cart => {
                let lines = self.clients.cart.lines(request.customer_id).await?;
                if lines.is_empty() {
                    let mut v = Violations::new();
                    v.add("from_cart", "the cart is empty");
                    return Err(AppError::Invalid(v));
                }
                let items = lines
                    .into_iter()
                    .map(|l| Item {
                        product_id: l.product_id,
                        quantity: l.quantity,
                    })
                    .collect();
                (items, true)
            }
        };
        let checkout = Checkout::validate(
            items,
            &request.fulfilment,
            request.payment_method_id,
            request.tip,
            request.notes.clone(),
        )?;
        let address = self.address(&request, checkout.fulfilment).await?;
        self.payment_method(request.customer_id, checkout.payment_method_id)
            .await?;

        let held = match self.claim(&request).await? {
            Claim::Claimed { held, resumed } => {
                if resumed {
                    tracing::info!(order.id = %held.order_id, "a retry resumes the checkout of a request that died");
                }
                held
            }
            Claim::OtherRequest => return Err(OrdersError::KeyReused.into()),
            Claim::Running => return Err(OrdersError::KeyInFlight.into()),
            Claim::Done { status, body } => return Ok(Placed::Replayed { status, body }),
        };
        let placing = self.place_claimed(&request, &held, checkout, address, from_cart, render);
        let placed = tokio::time::timeout(CHECKOUT_DEADLINE, placing)
            .await
            .unwrap_or(Err(OrdersError::TooSlow.into()));
        if let Err(failure) = &placed {
            // Refused as invalid or out of stock, nothing was held; after any other failure
            // stock may be held for the order id.
            let may_hold = !matches!(
                failure,
                AppError::Invalid(_) | AppError::Service(OrdersError::OutOfStock(_))
            );
            let (customer_id, key) = (request.customer_id, &request.idempotency_key);
            let given_up = self
                .release_claim(customer_id, key, &held, may_hold, &request.meta)
                .await;
            if let Err(error) = given_up {
                // The claim stays running; a retry or the sweep takes it from here.
                tracing::warn!(%error, order.id = %held.order_id, "cannot give up a failed checkout");
            }
        }
        placed
    }

    /// Claims the request's key; a fresh claim reserves as a new order id.
    async fn claim(&self, request: &PlaceOrder) -> Result<Claim, AppError> {
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        let claim = idempotency::claim(
            &mut tx,
            request.customer_id,
            &request.idempotency_key,
            &request.request_hash,
            ordo_kernel::new_id(),
            now,
            now - STALE_CLAIM,
        )
        .await?;
        tx.commit().await?;
        Ok(claim)
    }

    /// Gives up the checkouts whose requests died holding their claims since before
    /// `now - ABANDON_AFTER`: their keys are free again and their stock goes back. Returns
    /// how many.
    ///
    /// # Errors
    /// The database failing.
    pub async fn abandon_stale_checkouts(
        &self,
        now: time::OffsetDateTime,
    ) -> Result<usize, AppError> {
        let stale = idempotency::stale(&self.db, now - ABANDON_AFTER, 500).await?;
        let mut abandoned = 0;
        for claim in stale {
            let meta = EventMeta::job();
            if self
                .release_claim(claim.customer_id, &claim.key, &claim.held, true, &meta)
                .await?
            {
                abandoned += 1;
            }
        }
        Ok(abandoned)
    }

    /// Deletes the claim `held` and, when `announce`, publishes its order id abandoned in
    /// the same transaction. False when the claim is not that any more (nothing is
    /// written).
    async fn release_claim(
        &self,
        customer_id: Uuid,
        key: &str,
        held: &Held,
        announce: bool,
        meta: &EventMeta,
    ) -> Result<bool, AppError> {
        let mut tx = self.db.begin().await?;
        let released = idempotency::release(&mut tx, customer_id, key, held).await?;
        if released && announce {
            events::checkout_abandoned(&self.outbox, &mut tx, held.order_id, meta).await?;
        }
        self.outbox.commit(tx).await?;
        Ok(released)
    }

    async fn address(
        &self,
        request: &PlaceOrder,
        fulfilment: Fulfilment,
    ) -> Result<Option<PostalAddress>, AppError> {
        let invalid = |message: &str| {
            let mut v = Violations::new();
            v.add("address", message);
            AppError::Invalid(v)
        };
        match (&request.address, fulfilment) {
            (AddressChoice::None, Fulfilment::Pickup) => Ok(None),
            (AddressChoice::None, _) => Err(invalid(
                "address or address_id is required for delivery and shipping",
            )),
            (_, Fulfilment::Pickup) => Err(invalid("a pickup order has no address")),
            (AddressChoice::Given(address), _) => Ok(Some(
                address
                    .clone()
                    .validate()
                    .map_err(|v| v.within("address"))?,
            )),
            (AddressChoice::Saved(id), _) => {
                let saved = self
                    .clients
                    .identity
                    .address(request.customer_id, *id)
                    .await?;
                let saved = saved.ok_or_else(|| {
                    let mut v = Violations::new();
                    v.add("address_id", "no such address among yours");
                    AppError::Invalid(v)
                })?;
                Ok(Some(saved))
            }
        }
    }

    /// The card must be one of the customer's own, checked before any stock is reserved
    /// for an order that could never be paid (and before a declined order is tried again).
    pub(super) async fn payment_method(
        &self,
        customer_id: Uuid,
        method_id: Option<Uuid>,
    ) -> Result<(), AppError> {
        let owned = match method_id {
            Some(id) => self.clients.payments.owns_method(customer_id, id).await?,
            None => false,
        };
        if owned {
            Ok(())
        } else {
            let mut v = Violations::new();
            v.add("payment_method_id", "no such payment method among yours");
            Err(AppError::Invalid(v))
        }
    }

    /// Prices, reserves as the claim's order id and writes the order.
    async fn place_claimed(
        &self,
        request: &PlaceOrder,
        held: &Held,
        checkout: Checkout,
        address: Option<PostalAddress>,
        from_cart: bool,
        render: impl Fn(&Order) -> String,
    ) -> Result<Placed, AppError> {
        let ids: Vec<Uuid> = checkout.items.iter().map(|i| i.product_id).collect();
        let order_id = held.order_id;
        let products = self.clients.catalog.products(&ids).await?;
        let pricing = price(&checkout.items, &products)?;
        let lines: Vec<ReservationLine> = pricing
            .lines
            .iter()
            .map(|l| ReservationLine {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect();
        let trace = request
            .meta
            .traceparent
            .as_deref()
            .and_then(TraceContext::parse);
        let shortages = match self
            .clients
            .inventory
            .reserve(order_id, &lines, trace)
            .await?
        {
            Reservation::Held => Vec::new(),
            Reservation::OutOfStock(shortages) => shortages,
            // The sweep gave this checkout up while it was slow: a retry starts afresh.
            Reservation::GivenUp => return Err(OrdersError::KeyInFlight.into()),
        };
        if !shortages.is_empty() {
            let short = shortages
                .into_iter()
                .map(|s| Short {
                    name: pricing
                        .lines
                        .iter()
                        .find(|l| l.product_id == s.product_id)
                        .map(|l| l.name.clone())
                        .unwrap_or_default(),
                    product_id: s.product_id,
                    requested: s.requested,
                    available: s.available,
                })
                .collect();
            return Err(OrdersError::OutOfStock(short).into());
        }
        let now = ordo_kernel::time::now();
        let total = pricing.total(checkout.tip);
        let order = Order {
            id: order_id,
            customer_id: request.customer_id,
            merchant_id: pricing.merchant_id,
            status: Status::PendingPayment,
            fulfilment: checkout.fulfilment,
            address,
            payment_method_id: checkout.payment_method_id,
            currency: pricing.currency,
            lines: pricing.lines,
            subtotal: pricing.subtotal,
            tip: checkout.tip,
            total: total.amount,
            notes: checkout.notes,
            courier_id: None,
            shipment: None,
            payment: PaymentState::default(),
            from_cart,
            created_at: now,
            updated_at: now,
        };
        // The order, its lines, its first history entry, its event and the stored answer:
        // one statement (one round trip) on PostgreSQL.
        let mut tx = self.db.begin().await?;
        let mut batch = tx.batch();
        orders::insert(&mut batch, &order);
        orders::record(
            &mut batch,
            &HistoryEntry {
                id: ordo_kernel::new_id(),
                order_id,
                from: None,
                to: Status::PendingPayment,
                actor: "customer".into(),
                actor_id: Some(request.customer_id),
                cause: "placed".into(),
                at: now,
                trace_id: super::trace_id(&request.meta),
            },
        );
        events::order_placed(&self.outbox, &mut batch, &order, &request.meta)?;
        let answer = idempotency::complete(
            &mut batch,
            request.customer_id,
            &request.idempotency_key,
            held,
            201,
            &render(&order),
        );
        if tx.run(batch).await?.rows(answer) != 1 {
            // Too slow: a retry took the key over and gave this order id up. Nothing of
            // the batch is kept: the transaction rolls back as it is dropped.
            return Err(OrdersError::KeyInFlight.into());
        }
        self.outbox.commit(tx).await?;
        Ok(Placed::Created(Box::new(order)))
    }
}
