//! HTTP plumbing shared by every service and the gateway: problem+json errors, extractors
//! with problem rejections, the authenticated `Caller`, rate limits, the standard layer
//! stack and a server with timeouts and graceful shutdown. No business rules here.

pub mod auth;
pub mod extract;
pub mod layers;
pub mod problem;
pub mod ratelimit;
pub mod serve;

pub use auth::{Caller, Verifier};
pub use extract::{ClientIp, Json, Path, Query, Trace};
pub use problem::{FieldError, Problem};

/// Declares that failures of these types are unexpected for a service's use cases: each
/// converts into its `AppError::Unexpected(anyhow::Error)`, a 500 whose cause is logged.
#[macro_export]
macro_rules! unexpected_errors {
    ($error:ident: $($source:ty),+ $(,)?) => {
        $(
            impl From<$source> for $error {
                fn from(error: $source) -> Self {
                    $error::Unexpected(error.into())
                }
            }
        )+
    };
}
