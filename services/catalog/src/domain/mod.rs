//! The catalogue's rules: what a merchant and a product are, and what makes them valid.
//! No I/O.

mod merchant;
pub mod picture;
mod product;

pub use merchant::{Merchant, MerchantChange, MerchantKind, NewMerchant, Opening};
pub use picture::ImageType;
pub use product::{NewProduct, Product, ProductChange};
