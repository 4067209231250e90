//! Identity's rules: what a valid email, password, profile and address are, and which roles
//! a user may give themselves. No I/O here.

pub mod address;
pub mod user;

pub use address::{Address, AddressChange, NewAddress};
pub use user::{Email, Password, ProfileChange, Registration, User};
