//! Notifications: every user's inbox of what happens to their orders — order placed
//! (customer and the merchant's staff), payment failed, order cancelled or rejected, money
//! held released, refunds — read over `GET /notifications` and live over server-sent
//! events, and by email over SMTP when a server is configured and by text message, as each
//! user chose per kind of message (every attempt recorded, failures retried through the
//! bus); and the links to reset a password, by email.
//!
//! Publishes `email.requested` and `sms.requested` (to itself); consumes `order.placed`,
//! `payment.failed`, `order.cancelled`, `order.rejected`, `payment.refunded`,
//! `payment.voided`, the delivery and shipment steps, `email.requested`, `sms.requested`
//! and `password_reset.requested`.

mod api;
mod app;
mod config;
mod domain;
mod events;
mod mailer;
mod remote;
mod sms;
mod store;

pub use api::router;
pub use app::{AppError, Notifications, NotificationsError};
pub use config::{SmsConfig, SmsProviderKind};
pub use events::consume::subscriptions;
pub use mailer::Mailer;
pub use remote::client as remote_client;

use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::identity::IdentityClient;
use ordo_contracts::notifications::NotificationsClient;
use ordo_http::Streams;
use ordo_kernel::Secret;
use ordo_kit::{Parts, Service};
use std::sync::Arc;

/// The service's name: its database, schema and log target.
pub const NAME: &str = "notifications";

/// Notifications on its database, naming merchants from the `catalog` and people from
/// `identity`, and telling the orders service what it sent about an order
/// (`NotificationsClient`); also by email through `smtp_url` (as `smtp_from`) when set, and
/// by text message through the provider `sms` names; links in messages lead to
/// `public_url`. Its live streams count among their user's `streams`.
#[must_use]
pub fn service(
    smtp_url: Option<Secret<String>>,
    smtp_from: String,
    sms: SmsConfig,
    public_url: String,
    streams: Arc<Streams>,
    catalog: Arc<dyn CatalogClient>,
    identity: Arc<dyn IdentityClient>,
) -> Service<Arc<dyn NotificationsClient>> {
    Service::providing(
        NAME,
        migrations(),
        api::paths,
        move |wiring| {
            let mailer = match smtp_url {
                Some(url) => Some(Arc::new(
                    Mailer::new(url.expose(), &smtp_from).map_err(anyhow::Error::msg)?,
                )),
                None => None,
            };
            let texts = sms::provider(&sms).map_err(anyhow::Error::msg)?;
            let (db, outbox) = (wiring.db().clone(), wiring.outbox().clone());
            let notifications = Arc::new(Notifications::new(
                db.clone(),
                outbox.clone(),
                catalog,
                identity,
                mailer,
                texts,
                &public_url,
            ));
            wiring.expose(notifications.clone());
            notifications.echo_streams(wiring.echoes());
            Ok(Parts::routes(router(notifications.clone(), streams))
                .subscriptions(subscriptions(notifications.clone(), db, &outbox))
                .internal(api::internal::router(notifications.clone()))
                .providing::<Arc<dyn NotificationsClient>>(notifications))
        },
        remote::client,
    )
}

/// Notifications' migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_notifications"),
        ordo_db::migration!(2, "0002_order_couriers"),
        ordo_db::migration!(3, "0003_preferences_and_sms"),
        ordo_db::migration!(4, "0004_order_timeline"),
        ordo_db::migration!(5, "0005_notification_traces"),
        ordo_db::migration!(6, "0006_native_types", per_dialect),
    ];
    MIGRATIONS
}
