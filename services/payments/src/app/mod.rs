//! The payments service's use cases: customers' saved cards; authorising each placed order
//! once (provider idempotency key `pay:{order}`), voiding the authorisation when the order
//! ends before capture, capturing it when the order completes — each asked of the provider
//! after the event's transaction (`requests`); refunds; the provider's webhooks.

mod authorise;
mod capture;
mod client;
mod methods;
mod requests;
mod timeline;
mod webhooks;

#[cfg(test)]
mod tests;

pub use capture::{Refund, RefundOutcome};
pub use methods::SavedCard;
pub use webhooks::WebhookOutcome;

use crate::provider::{PaymentProvider, ProviderError};
use ordo_bus::Outbox;
use ordo_db::Db;
use ordo_kernel::Secret;
use std::sync::Arc;

pub struct Payments {
    db: Db,
    outbox: Outbox,
    provider: Arc<dyn PaymentProvider>,
    /// Shared with the provider to sign its webhooks; none: webhooks are refused.
    webhook_secret: Option<Secret<String>>,
    requests_recorded: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("db", &self.db)
            .field("provider", &self.provider.name())
            .finish_non_exhaustive()
    }
}

/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("webhook refused: {0}")]
    BadSignature(&'static str),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<PaymentsError>;

impl From<ProviderError> for AppError {
    fn from(error: ProviderError) -> Self {
        AppError::Service(PaymentsError::Provider(error))
    }
}

impl Payments {
    #[must_use]
    pub fn new(
        db: Db,
        outbox: Outbox,
        provider: Arc<dyn PaymentProvider>,
        webhook_secret: Option<Secret<String>>,
    ) -> Self {
        Payments {
            db,
            outbox,
            provider,
            webhook_secret,
            requests_recorded: Arc::default(),
        }
    }
}
