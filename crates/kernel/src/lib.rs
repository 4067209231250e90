//! Vocabulary shared by every Ordo crate: ids, time, money, postal addresses, paging, roles,
//! secrets and webhook signatures, and the OpenAPI schemas of the text rules.
//! Pure: no I/O, no async, no framework types.

pub mod address;
pub mod caller;
pub mod geo;
pub mod id;
pub mod money;
pub mod paging;
pub mod patch;
pub mod role;
pub mod schema;
pub mod secret;
pub mod signature;
pub mod time;
pub mod trace;
pub mod validation;

pub use address::{PostalAddress, PostalChange};
pub use caller::Caller;
pub use id::new_id;
pub use money::Money;
pub use paging::{Cursor, Page, PageRequest};
pub use role::Role;
pub use secret::Secret;
pub use validation::{Violation, Violations};
