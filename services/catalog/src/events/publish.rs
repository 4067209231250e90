//! Domain -> contract: each change appended to the outbox in the use case's transaction.

use crate::domain::{Merchant, Product};
use ordo_bus::{BusError, EventMeta, Outbox};
use ordo_contracts::catalog::{
    MerchantCreated, MerchantSnapshot, MerchantUpdated, OpeningHours, ProductCreated,
    ProductDeleted, ProductSnapshot, ProductUpdated,
};
use ordo_db::Tx;

pub(crate) fn merchant_snapshot(merchant: &Merchant) -> MerchantSnapshot {
    MerchantSnapshot {
        merchant_id: merchant.id,
        name: merchant.name.clone(),
        kind: merchant.kind.as_str().to_owned(),
        address: merchant.address.clone(),
        lat: merchant.lat,
        lon: merchant.lon,
        opening_hours: merchant
            .opening_hours
            .iter()
            .map(|o| OpeningHours {
                day: o.day.clone(),
                open: o.open.clone(),
                close: o.close.clone(),
            })
            .collect(),
        staff: merchant.staff.clone(),
    }
}

pub(crate) fn product_snapshot(product: &Product) -> ProductSnapshot {
    ProductSnapshot {
        product_id: product.id,
        merchant_id: product.merchant_id,
        name: product.name.clone(),
        description: product.description.clone(),
        category: product.category.clone(),
        price: product.price.clone(),
        sku: product.sku.clone(),
        tags: product.tags.clone(),
        active: product.active,
    }
}

pub(crate) async fn merchant_created(
    outbox: &Outbox,
    tx: &mut Tx,
    merchant: &Merchant,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = MerchantCreated {
        merchant: merchant_snapshot(merchant),
    };
    outbox
        .append(tx, &merchant.id.to_string(), &event, meta)
        .await
        .map(|_| ())
}

pub(crate) async fn merchant_updated(
    outbox: &Outbox,
    tx: &mut Tx,
    merchant: &Merchant,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = MerchantUpdated {
        merchant: merchant_snapshot(merchant),
    };
    outbox
        .append(tx, &merchant.id.to_string(), &event, meta)
        .await
        .map(|_| ())
}

pub(crate) async fn product_created(
    outbox: &Outbox,
    tx: &mut Tx,
    product: &Product,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = ProductCreated {
        product: product_snapshot(product),
    };
    outbox
        .append(tx, &product.id.to_string(), &event, meta)
        .await
        .map(|_| ())
}

pub(crate) async fn product_updated(
    outbox: &Outbox,
    tx: &mut Tx,
    product: &Product,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = ProductUpdated {
        product: product_snapshot(product),
    };
    outbox
        .append(tx, &product.id.to_string(), &event, meta)
        .await
        .map(|_| ())
}

pub(crate) async fn product_deleted(
    outbox: &Outbox,
    tx: &mut Tx,
    product: &Product,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = ProductDeleted {
        product_id: product.id,
        merchant_id: product.merchant_id,
    };
    outbox
        .append(tx, &product.id.to_string(), &event, meta)
        .await
        .map(|_| ())
}
