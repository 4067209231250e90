//! Payments: customers' saved cards (provider tokens only; the newest is the default), the
//! `PaymentProvider` trait and its built-in `sandbox`, authorising each placed order once
//! (and again, once per card, when its customer tries another card after a decline),
//! voiding it when the order ends before capture, capturing it when the order completes,
//! operators' refunds
//! (reserved before the provider is asked) and the provider's signed webhooks. Orders asks
//! whether a card is the customer's through `ordo_contracts::payments::PaymentsClient`.
//!
//! Publishes `payment.authorized`, `payment.failed`, `payment.voided`, `payment.captured`,
//! `payment.refunded`; consumes `order.placed` and `order.payment_retried` (authorise),
//! `order.cancelled` and `order.rejected` (void), `order.completed` (capture).

mod api;
mod app;
mod domain;
mod events;
mod provider;
mod remote;
mod store;

pub use api::router;
pub use app::{AppError, Payments, PaymentsError};
pub use domain::CardDetails;
pub use events::consume::subscriptions;
pub use provider::{
    Authorization, Capture, PaymentProvider, ProviderError, ProviderFuture, Sandbox, Tokenized,
};
pub use remote::client as remote_client;

use ordo_contracts::payments::PaymentsClient;
use ordo_kernel::Secret;
use ordo_kit::{Parts, Service, Sweep};
use std::sync::Arc;
use std::time::Duration;

/// The service's name: its database, schema, event source and log target.
pub const NAME: &str = "payments";

/// Payments on its database, through `provider`; webhooks are signed with `webhook_secret`
/// (refused when unset). Provides `PaymentsClient` (and shows `Payments` to the binary);
/// asks the provider what its consumers recorded as soon as they commit, and makes pending
/// refunds every 30 seconds.
#[must_use]
pub fn service(
    provider: Arc<dyn PaymentProvider>,
    webhook_secret: Option<Secret<String>>,
) -> Service<Arc<dyn PaymentsClient>> {
    Service::providing(
        NAME,
        migrations(),
        api::paths,
        move |wiring| {
            let (db, outbox) = (wiring.db().clone(), wiring.outbox().clone());
            let payments = Arc::new(Payments::new(
                db.clone(),
                outbox.clone(),
                provider,
                webhook_secret,
            ));
            wiring.expose(payments.clone());
            let requests = Sweep::new(
                "provider requests answered",
                Duration::from_secs(1),
                &payments,
                |payments, now| async move { payments.make_requests(now).await },
            )
            .woken_by(payments.requests_recorded());
            let refunds = Sweep::new(
                "pending refunds made",
                Duration::from_secs(30),
                &payments,
                |payments, now| async move { payments.settle_pending_refunds(now).await },
            );
            Ok(Parts::routes(router(payments.clone()))
                .subscriptions(subscriptions(payments.clone(), db, &outbox))
                .sweep(requests)
                .sweep(refunds)
                .internal(api::internal::router(payments.clone()))
                .providing::<Arc<dyn PaymentsClient>>(payments))
        },
        remote::client,
    )
}

/// The payments service's migrations (`migrations/`): one portable file each, or one per dialect
/// (`migrations/{sqlite,postgres}/`) where the dialects differ.
#[must_use]
pub fn migrations() -> &'static [ordo_db::Migration] {
    const MIGRATIONS: &[ordo_db::Migration] = &[
        ordo_db::migration!(1, "0001_create_payments"),
        ordo_db::migration!(2, "0002_pending_refunds"),
        ordo_db::migration!(3, "0003_provider_requests"),
        ordo_db::migration!(4, "0004_order_ends"),
        ordo_db::migration!(5, "0005_payment_attempts"),
        ordo_db::migration!(6, "0006_payment_times"),
        ordo_db::migration!(7, "0007_provider_answers"),
        ordo_db::migration!(8, "0008_settle_traces"),
        ordo_db::migration!(9, "0009_native_types", per_dialect),
    ];
    MIGRATIONS
}
