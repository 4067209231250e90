//! The card processor behind the payments service: a trait, and the built-in sandbox that
//! behaves like a processor's test mode.

mod sandbox;

pub use sandbox::Sandbox;

use crate::domain::CardDetails;
use ordo_kernel::Money;
use std::future::Future;
use std::pin::Pin;

pub type ProviderFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// A card as the processor keeps it for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokenized {
    pub token: String,
    pub brand: String,
    pub last4: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// The money is held; `reference` names the authorisation at the processor.
    Approved { reference: String },
    /// Refused, with a stable code such as `card_declined` or `insufficient_funds`.
    Declined { code: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    Captured,
    /// The processor refused to charge, with a stable code.
    Failed {
        code: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The processor could not be asked; try again.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
}

pub trait PaymentProvider: Send + Sync {
    /// The provider's name, stored beside its tokens and references.
    fn name(&self) -> &'static str;

    /// Exchanges card details (already validated) for a token.
    fn tokenize<'a>(&'a self, card: &'a CardDetails) -> ProviderFuture<'a, Tokenized>;

    /// Holds `amount` on the card. The same `idempotency_key` always gives the same answer
    /// and never a second hold.
    fn authorize<'a>(
        &'a self,
        token: &'a str,
        amount: &'a Money,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, Authorization>;

    /// Charges an authorisation. The same key never charges twice.
    fn capture<'a>(
        &'a self,
        reference: &'a str,
        amount: &'a Money,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, Capture>;

    /// Gives `amount` of a capture back. The same key never refunds twice.
    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: &'a Money,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ()>;

    /// Releases an authorisation without charging.
    fn void<'a>(&'a self, reference: &'a str, idempotency_key: &'a str) -> ProviderFuture<'a, ()>;
}
