//! Orders: the checkout (idempotent by `Idempotency-Key`), the status table and the full
//! history of every order, cancellations, and the reaction to payments: a declined order
//! waits in `payment_failed` for another card until `payment_retry_secs` have passed.
//!
//! Publishes `order.placed`, the status changes others follow (`order.payment_failed`,
//! `order.payment_retried`, `order.paid`, `order.cancelled`, `order.rejected`,
//! `order.accepted`, `order.ready`, `order.completed`) and `checkout.abandoned`; consumes
//! `reservation.committed` (the order is paid), `reservation.lost` and `payment.failed`
//! (`events`). Calls the catalogue (prices),
//! inventory (reservations), identity (saved addresses) and the cart through their client
//! traits; for operators, identity and the catalogue (whom a search names) and inventory,
//! payments, delivery and notifications (their part of an order's timeline).

mod api;
mod app;
mod config;
mod domain;
mod events;
mod remote;
mod store;

pub use api::router;
pub use app::{ABANDON_AFTER, AppError, Clients, Orders, OrdersError, STALE_CLAIM, Short};
pub use config::OrdersConfig;
pub use events::consume::subscriptions;
pub use remote::client as remote_client;

use ordo_contracts::orders::OrdersClient;
use ordo_http::Streams;
use ordo_kit::{Parts, Service, Sweep};
use std::sync::Arc;

/// The service's name: its database, schema, event source and log target.
pub const NAME: &str = "orders";

/// Orders on its database, calling the cart, catalogue, inventory, identity, payments,
/// delivery and notifications through `clients`;
/// gives up on checkouts whose requests died every half `STALE_CLAIM`, rejects paid orders
/// no merchant accepted in `accept_timeout_secs`, and cancels declined orders nobody paid
/// in `payment_retry_secs`. Its tracking streams count among
/// their user's live `streams`. Provides `OrdersClient`.
#[must_use]
pub fn service(
    config: OrdersConfig,
    streams: Arc<Streams>,
    clients: Clients,
) -> Service<Arc<dyn OrdersClient>> {
    Service::providing(
        NAME,
        migrations(),
        api::paths,
        move |wiring| {
            let (db, outbox) = (wiring.db().clone(), wiring.outbox().clone());
            let orders = Arc::new(Orders::new(
                db.clone(),
                outbox.clone(),
                clients,
                config.payment_retry(),
            ));
            wiring.expose(orders.clone());
            orders.echo_streams(wiring.echoes());
            let stale = Sweep::new(
                "checkouts whose requests died given up",
                STALE_CLAIM / 2,
                &orders,
                |orders, now| async move { orders.abandon_stale_checkouts(now).await },
            );
            let timeout = config.accept_timeout();
            let unaccepted = Sweep::new(
                "orders no merchant accepted in time rejected",
                config.sweep_every(),
                &orders,
                move |orders, now| async move { orders.reject_unaccepted(now - timeout).await },
            );
            let unpaid = Sweep::new(
                "declined orders nobody paid in time cancelled",
                config.sweep_every(),
                &orders,
                |orders, now| async move { orders.close_retry_windows(now).await },
            );
            // Every instance reports it, so the gauge is never one a former lease holder left.
            let waiting = Sweep::new(
                "orders waiting for their merchant measured",
                config.sweep_every(),
                &orders,
                |orders, now| async move { orders.measure_waiting(now).await },
            )
            .per_instance();
            Ok(Parts::routes(router(orders.clone(), streams))
                .subscriptions(subscriptions(orders.clone(), db, &outbox))
                .internal(api::internal::router(orders.clone()))
                .sweep(stale)
                .sweep(unaccepted)
                .sweep(unpaid)
                .sweep(waiting)
                .providing::<Arc<dyn OrdersClient>>(orders))
        },
        remote::client,
    )
}

/// The orders service's migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_orders"),
        ordo_db::migration!(2, "0002_checkout_claims"),
        ordo_db::migration!(3, "0003_order_couriers"),
        ordo_db::migration!(4, "0004_accept_timeout"),
        ordo_db::migration!(5, "0005_order_shipments"),
        ordo_db::migration!(6, "0006_open_orders"),
        ordo_db::migration!(7, "0007_payment_failed", per_dialect),
        ordo_db::migration!(8, "0008_payment_retry"),
        ordo_db::migration!(9, "0009_order_search"),
        ordo_db::migration!(10, "0010_native_types", per_dialect),
    ];
    MIGRATIONS
}
