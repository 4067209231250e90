//! The cart's use cases: a customer adds (of one merchant), changes, removes and clears
//! lines; reading the cart prices it from the catalogue at that moment; what an order from
//! it took leaves it once the order is paid. Carts are in the database, or in Redis
//! (`cart.store`); the rules and the events are the same.

use crate::domain;
use crate::events;
use crate::store::redis_carts::{Added, RedisCarts};
use crate::store::{self, Item};
use ordo_bus::{EventMeta, Outbox};
use ordo_contracts::ClientError;
use ordo_contracts::ClientFuture;
use ordo_contracts::cart::{CartClient, CartLine};
use ordo_contracts::catalog::{CatalogClient, ProductSnapshot};
use ordo_db::{Db, Tx};
use ordo_kernel::Caller;
use ordo_kernel::{Money, Role, Violations};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

pub struct Cart {
    db: Db,
    outbox: Outbox,
    catalog: Arc<dyn CatalogClient>,
    /// Where carts are when they are not in the database.
    redis: Option<RedisCarts>,
}

impl std::fmt::Debug for Cart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cart")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The cart holds another merchant's products (`name`, when the catalogue still knows
    /// it): an order comes from one merchant.
    #[error("the cart holds another merchant's products")]
    OtherMerchant {
        merchant_id: Uuid,
        name: Option<String>,
    },
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<CartError>;

/// A cart line as the customer sees it, priced now.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedItem {
    pub product_id: Uuid,
    pub quantity: i64,
    /// `None` when the product is gone from the catalogue.
    pub product: Option<ProductSnapshot>,
}

/// The cart, priced: one subtotal per currency, the merchants its lines come from.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedCart {
    pub items: Vec<PricedItem>,
    pub subtotals: Vec<Money>,
    pub merchants: Vec<Uuid>,
}

fn customer_only(caller: &Caller) -> Result<(), AppError> {
    if caller.role == Role::Customer {
        Ok(())
    } else {
        Err(AppError::Forbidden("only customers have carts"))
    }
}

impl Cart {
    #[must_use]
    pub fn new(db: Db, outbox: Outbox, catalog: Arc<dyn CatalogClient>) -> Self {
        Cart {
            db,
            outbox,
            catalog,
            redis: None,
        }
    }

    /// Carts kept in Redis rather than in the database.
    #[must_use]
    pub fn in_redis(mut self, carts: RedisCarts) -> Self {
        self.redis = Some(carts);
        self
    }

    async fn items(&self, customer: Uuid) -> Result<Vec<Item>, AppError> {
        match &self.redis {
            Some(carts) => carts.items(customer).await.map_err(AppError::from),
            None => Ok(store::items(&self.db, customer).await?),
        }
    }

    /// # Errors
    /// `Forbidden` for non-customers.
    pub async fn cart(&self, caller: &Caller) -> Result<PricedCart, AppError> {
        customer_only(caller)?;
        let items = self.items(caller.user_id).await?;
        let ids: Vec<Uuid> = items.iter().map(|i| i.product_id).collect();
        let products: BTreeMap<Uuid, ProductSnapshot> = self
            .catalog
            .products(&ids)
            .await?
            .into_iter()
            .map(|p| (p.product_id, p))
            .collect();
        let mut subtotals: BTreeMap<String, i64> = BTreeMap::new();
        let mut merchants = Vec::new();
        let items = items
            .into_iter()
            .map(
                |Item {
                     product_id,
                     quantity,
                 }| {
                    let product = products.get(&product_id).cloned();
                    if let Some(p) = product.as_ref().filter(|p| p.active) {
                        *subtotals.entry(p.price.currency.clone()).or_default() +=
                            p.price.amount * quantity;
                        if !merchants.contains(&p.merchant_id) {
                            merchants.push(p.merchant_id);
                        }
                    }
                    PricedItem {
                        product_id,
                        quantity,
                        product,
                    }
                },
            )
            .collect();
        Ok(PricedCart {
            items,
            subtotals: subtotals
                .into_iter()
                .map(|(currency, amount)| Money { amount, currency })
                .collect(),
            merchants,
        })
    }

    /// Adds `quantity` of a product (to what is there already); the first product in an
    /// empty cart announces the cart started.
    ///
    /// # Errors
    /// `Forbidden`, `Invalid` (quantity, unknown or unavailable product), `Conflict` (too
    /// many lines or units), `OtherMerchant` (the cart holds another merchant's products).
    pub async fn add(
        &self,
        caller: &Caller,
        product_id: Uuid,
        quantity: i64,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        customer_only(caller)?;
        let quantity = domain::quantity(quantity)?;
        let product = self.catalog.products(&[product_id]).await?.pop();
        let Some(product) = product.filter(|p| p.active) else {
            let mut v = Violations::new();
            v.add("product_id", "no such product, or it cannot be ordered now");
            return Err(AppError::Invalid(v));
        };
        let line = Item {
            product_id,
            quantity,
        };
        if let Some(carts) = &self.redis {
            return self.add_in_redis(carts, caller, &product, line, meta).await;
        }
        let mut tx = self.db.begin().await?;
        let now = ordo_kernel::time::now();
        // Taken first: another addition of the customer's waits here, then sees this one's.
        store::take(&mut tx, caller.user_id, now).await?;
        if let Some(merchant_id) =
            store::other_merchant(&mut tx, caller.user_id, product.merchant_id).await?
        {
            tx.rollback().await?;
            let name = self.catalog.merchant(merchant_id).await?.map(|m| m.name);
            return Err(CartError::OtherMerchant { merchant_id, name }.into());
        }
        let lines = store::count(&mut tx, caller.user_id).await?;
        if lines >= domain::MAX_LINES {
            return Err(
                CartError::Conflict("the cart is full; order or remove something first").into(),
            );
        }
        if !store::add(
            &mut tx,
            caller.user_id,
            product.merchant_id,
            line,
            domain::MAX_QUANTITY,
            now,
        )
        .await?
        {
            return Err(CartError::Conflict("at most 1000 units of one product").into());
        }
        if lines == 0 {
            events::cart_started(&self.outbox, &mut tx, caller.user_id, &product, meta).await?;
        }
        self.outbox.commit(tx).await?;
        Ok(())
    }

    /// Adds to a cart in Redis; the cart's start is published after, in a transaction of its
    /// own. Should that fail, the line is taken out again: the customer's retry must not
    /// count it twice.
    async fn add_in_redis(
        &self,
        carts: &RedisCarts,
        caller: &Caller,
        product: &ProductSnapshot,
        line: Item,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        let customer = caller.user_id;
        let limits = (domain::MAX_QUANTITY, domain::MAX_LINES);
        let now = ordo_kernel::time::now();
        let added = carts
            .add(customer, product.merchant_id, line, limits, now)
            .await
            .map_err(AppError::from)?;
        match added {
            Added::Another => Ok(()),
            Added::First => {
                let started = async {
                    let mut tx = self.db.begin().await?;
                    events::cart_started(&self.outbox, &mut tx, customer, product, meta).await?;
                    self.outbox.commit(tx).await?;
                    Ok::<(), AppError>(())
                }
                .await;
                if started.is_err() {
                    let undo = [(line.product_id, line.quantity)];
                    let taken = carts.take_out(customer, ordo_kernel::new_id(), &undo).await;
                    if let Err(error) = taken {
                        tracing::warn!(customer.id = %customer, %error, "a line whose cart could not be started stays in the cart");
                    }
                }
                started
            }
            Added::OtherMerchant(merchant_id) => {
                let name = self.catalog.merchant(merchant_id).await?.map(|m| m.name);
                Err(CartError::OtherMerchant { merchant_id, name }.into())
            }
            Added::Full => {
                Err(CartError::Conflict("the cart is full; order or remove something first").into())
            }
            Added::TooMany => Err(CartError::Conflict("at most 1000 units of one product").into()),
        }
    }

    /// # Errors
    /// `Forbidden`, `Invalid`, `NotFound` (not in the cart).
    pub async fn set(
        &self,
        caller: &Caller,
        product_id: Uuid,
        quantity: i64,
    ) -> Result<(), AppError> {
        customer_only(caller)?;
        let quantity = domain::quantity(quantity)?;
        if let Some(carts) = &self.redis {
            let set = carts.set(caller.user_id, product_id, quantity).await;
            return if set.map_err(AppError::from)? {
                Ok(())
            } else {
                Err(AppError::NotFound)
            };
        }
        let mut tx = self.db.begin().await?;
        if !store::set(
            &mut tx,
            caller.user_id,
            product_id,
            quantity,
            ordo_kernel::time::now(),
        )
        .await?
        {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// # Errors
    /// `Forbidden`, `NotFound` (not in the cart).
    pub async fn remove(&self, caller: &Caller, product_id: Uuid) -> Result<(), AppError> {
        customer_only(caller)?;
        if let Some(carts) = &self.redis {
            let removed = carts.remove(caller.user_id, product_id).await;
            return if removed.map_err(AppError::from)? {
                Ok(())
            } else {
                Err(AppError::NotFound)
            };
        }
        let mut tx = self.db.begin().await?;
        if !store::remove(&mut tx, caller.user_id, product_id).await? {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// # Errors
    /// `Forbidden`.
    pub async fn clear(&self, caller: &Caller) -> Result<(), AppError> {
        customer_only(caller)?;
        if let Some(carts) = &self.redis {
            return carts.clear(caller.user_id).await.map_err(AppError::from);
        }
        let mut tx = self.db.begin().await?;
        store::clear(&mut tx, caller.user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes out of the customer's cart the `lines` (product, quantity) that `order`, paid
    /// and made from it, took; what was added since stays. Inside the consumer's
    /// transaction; in Redis, once per order whatever becomes of the transaction.
    pub(crate) async fn ordered(
        &self,
        tx: &mut Tx,
        customer: Uuid,
        order: Uuid,
        lines: &[(Uuid, i64)],
    ) -> Result<(), AppError> {
        if let Some(carts) = &self.redis {
            return carts
                .take_out(customer, order, lines)
                .await
                .map_err(AppError::from);
        }
        for (product, quantity) in lines {
            store::take_out(tx, customer, *product, *quantity).await?;
        }
        Ok(())
    }
}

impl CartClient for Cart {
    fn lines(&self, customer_id: Uuid) -> ClientFuture<'_, Vec<CartLine>> {
        Box::pin(async move {
            let items = self
                .items(customer_id)
                .await
                .map_err(|e| ClientError::failed(crate::NAME, e.is_outage(), e))?;
            Ok(items
                .into_iter()
                .map(|i| CartLine {
                    product_id: i.product_id,
                    quantity: i.quantity,
                })
                .collect())
        })
    }
}
