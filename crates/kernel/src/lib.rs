//! Vocabulary shared by every Ordo crate: ids, time, paging, roles, secrets and webhook
//! signatures.
//! Pure: no I/O, no async, no framework types.

pub mod caller;
pub mod geo;
pub mod id;
pub mod money;
pub mod paging;
pub mod role;
pub mod secret;
pub mod signature;
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
