//! Delivery (DESIGN.md §2, seed 003's DDS): couriers going online and reporting where they
//! are (kept in memory, indexed by H3 cell, written every few seconds), a delivery opened
//! for each accepted delivery order, offered to the nearest idle couriers in widening rings
//! of cells (or assigned to the best one in `auto` mode), offers that expire and pass on,
//! the first acceptance winning, escalation of deliveries nobody takes, and the hand-over.
//!
//! Publishes `delivery.offered`, `delivery.assigned`, `delivery.completed`,
//! `delivery.unassigned`; consumes `order.accepted`, `order.picked_up`, `order.cancelled`,
//! `order.rejected` (`events::consume`).

mod api;
mod app;
mod config;
mod domain;
mod events;
mod remote;
mod store;

pub use api::router;
pub use app::{AppError, Delivery, DeliveryError};
pub use config::{DeliveryConfig, DispatchMode};
pub use events::consume::subscriptions;
pub use remote::client as remote_client;

use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::delivery::DeliveryClient;
use ordo_contracts::identity::IdentityClient;
use ordo_kit::{Parts, Service, Sweep};
use std::sync::Arc;
use std::time::Duration;

/// The service's name: its database, schema, event source and log target.
pub const NAME: &str = "delivery";

/// Delivery on its database, asking the `catalog` where merchants are and `identity` who
/// customers are. Provides `DeliveryClient` (and shows `Delivery` to the binary). Its sweeps
/// expire offers and ask again (every
/// `sweep_ms`) and write positions (every `persist_secs`).
#[must_use]
pub fn service(
    config: DeliveryConfig,
    catalog: Arc<dyn CatalogClient>,
    identity: Arc<dyn IdentityClient>,
) -> Service<Arc<dyn DeliveryClient>> {
    Service::providing(
        NAME,
        migrations(),
        api::paths,
        move |wiring| {
            let (db, outbox) = (wiring.db().clone(), wiring.outbox().clone());
            let (sweep_every, persist_every) = (
                config.sweep_every(),
                Duration::from_secs(config.persist_secs),
            );
            let delivery = Arc::new(Delivery::new(
                db.clone(),
                outbox.clone(),
                config,
                catalog,
                identity,
                wiring.redis().cloned(),
            ));
            wiring.expose(delivery.clone());
            delivery.echo_streams(wiring.echoes());
            let dispatch = Sweep::new(
                "deliveries offered again or escalated",
                sweep_every,
                &delivery,
                |delivery, now| async move { delivery.sweep(now).await },
            )
            .woken_by(delivery.couriers_free());
            let positions = Sweep::new(
                "courier positions written",
                persist_every,
                &delivery,
                |delivery, now| async move { delivery.persist_positions(now).await },
            );
            // A fleet in memory is the process's own: each writes the positions reported to
            // it. One in Redis is every instance's: one writes them at a time.
            let positions = if delivery.fleet_in_memory() {
                positions.per_instance()
            } else {
                positions
            };
            // Every instance reports it, so the gauge is never one a former lease holder left.
            let waiting = Sweep::new(
                "deliveries waiting for a courier measured",
                sweep_every,
                &delivery,
                |delivery, now| async move { delivery.measure_waiting(now).await },
            )
            .per_instance();
            Ok(Parts::routes(router(delivery.clone()))
                .subscriptions(subscriptions(delivery.clone(), db, &outbox))
                .sweep(dispatch)
                .sweep(positions)
                .sweep(waiting)
                .internal(api::internal::router(delivery.clone()))
                .providing::<Arc<dyn DeliveryClient>>(delivery))
        },
        remote::client,
    )
}

/// Delivery's migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_delivery"),
        ordo_db::migration!(2, "0002_shipments"),
        ordo_db::migration!(3, "0003_fleet_and_pay"),
        ordo_db::migration!(4, "0004_scans_per_parcel"),
        ordo_db::migration!(5, "0005_offers_again"),
        ordo_db::migration!(6, "0006_step_traces"),
        ordo_db::migration!(7, "0007_native_types", per_dialect),
    ];
    MIGRATIONS
}
