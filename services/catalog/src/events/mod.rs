//! What the catalogue publishes (contracts in `ordo_contracts::catalog`); it consumes
//! nothing yet.

mod publish;

pub(crate) use publish::{
    merchant_created, merchant_snapshot, merchant_updated, product_created, product_deleted,
    product_snapshot, product_updated,
};
