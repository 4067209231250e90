//! The checkout: validate, claim the idempotency key, price from the catalogue, reserve the
//! stock, then the order, its first history entry, `order.placed` and the stored answer in
//! one transaction.

use super::{AppError, Orders, Short};
use crate::domain::{
    Checkout, DeliveryAddress, Fulfilment, HistoryEntry, Item, Order, Status, price,
};
use crate::events;
use crate::store::idempotency::{self, Claim};
use crate::store::orders;
use ordo_bus::EventMeta;
use ordo_contracts::inventory::{Reservation, ReservationLine};
use ordo_kernel::Violations;
use std::time::Duration;
use tracing::instrument;
use uuid::Uuid;

/// A claim older than this was left by a process that died; it may be taken over.
const STALE_CLAIM: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub enum AddressChoice {
    None,
    Saved(Uuid),
    Given(DeliveryAddress),
}

/// Where the order's items come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemsSource {
    Given(Vec<Item>),
    /// The customer's cart, which is emptied once the order is placed.
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

        let now = ordo_kernel::time::now();
        let mut conn = self.db.begin().await?;
        let claim = idempotency::claim(
            &mut conn,
            request.customer_id,
            &request.idempotency_key,
            &request.request_hash,
            now,
            now - STALE_CLAIM,
        )
        .await?;
        conn.commit().await?;
        match claim {
            Claim::Claimed => {}
            Claim::OtherRequest => return Err(AppError::KeyReused),
            Claim::Running => return Err(AppError::KeyInFlight),
            Claim::Done { status, body } => return Ok(Placed::Replayed { status, body }),
        }
        let placed = self
            .place_claimed(&request, checkout, address, from_cart, render)
            .await;
        if placed.is_err() {
            // Nothing was written: the same request may be sent again.
            if let Err(error) = self
                .release_key(request.customer_id, &request.idempotency_key)
                .await
            {
                tracing::warn!(%error, "cannot release an idempotency key");
            }
        }
        placed
    }

    async fn release_key(&self, customer_id: Uuid, key: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        idempotency::release(&mut *tx, customer_id, key).await?;
        tx.commit().await
    }

    async fn address(
        &self,
        request: &PlaceOrder,
        fulfilment: Fulfilment,
    ) -> Result<Option<DeliveryAddress>, AppError> {
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
            (AddressChoice::Given(address), _) => Ok(Some(address.clone().validate()?)),
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
                Ok(Some(DeliveryAddress {
                    line1: saved.line1,
                    line2: saved.line2,
                    city: saved.city,
                    postal_code: saved.postal_code,
                    country: saved.country,
                    lat: saved.lat,
                    lon: saved.lon,
                }))
            }
        }
    }

    async fn place_claimed(
        &self,
        request: &PlaceOrder,
        checkout: Checkout,
        address: Option<DeliveryAddress>,
        from_cart: bool,
        render: impl Fn(&Order) -> String,
    ) -> Result<Placed, AppError> {
        let ids: Vec<Uuid> = checkout.items.iter().map(|i| i.product_id).collect();
        let products = self.clients.catalog.products(&ids).await?;
        let pricing = price(&checkout.items, &products)?;
        let order_id = ordo_kernel::new_id();
        let lines: Vec<ReservationLine> = pricing
            .lines
            .iter()
            .map(|l| ReservationLine {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect();
        if let Reservation::OutOfStock(shortages) =
            self.clients.inventory.reserve(order_id, &lines).await?
        {
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
            return Err(AppError::OutOfStock(short));
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
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        orders::insert(&mut tx, &order).await?;
        orders::record(
            &mut tx,
            &HistoryEntry {
                id: ordo_kernel::new_id(),
                order_id,
                from: None,
                to: Status::PendingPayment,
                actor: "customer".into(),
                actor_id: Some(request.customer_id),
                cause: "placed".into(),
                at: now,
            },
        )
        .await?;
        events::order_placed(&self.outbox, &mut tx, &order, from_cart, &request.meta).await?;
        idempotency::complete(
            &mut tx,
            request.customer_id,
            &request.idempotency_key,
            201,
            &render(&order),
        )
        .await?;
        self.outbox.commit(tx).await?;
        Ok(Placed::Created(Box::new(order)))
    }
}
