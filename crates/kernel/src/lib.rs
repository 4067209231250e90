//! Vocabulary shared by every Ordo crate: ids, time, paging, roles and secrets.
//! Pure: no I/O, no async, no framework types.

pub mod caller;
pub mod geo;
pub mod id;
pub mod money;
pub mod paging;
pub mod role;
pub mod secret;
pub mod time;
pub mod trace;
pub mod validation;

pub use caller::Caller;
pub use id::new_id;
pub use money::Money;
pub use paging::{Cursor, Page, PageRequest};
pub use role::Role;
pub use secret::Secret;
pub use validation::{Violation, Violations};

/// Declares that failures of these types are unexpected for a service's use cases: each
/// converts into its `AppError::Unexpected(anyhow::Error)`, a 500 (or a 503 when the cause
/// is an outage) whose cause is logged.
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
