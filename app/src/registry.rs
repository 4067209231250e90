//! The services this binary runs. Adding a service is one entry here, one dependency in
//! `Cargo.toml` and its wiring in `platform.rs`.

use ordo_db::{Db, Migration};
use std::collections::BTreeMap;

/// Opened databases by service name.
pub type Databases = BTreeMap<&'static str, Db>;

pub struct ServiceSpec {
    pub name: &'static str,
    pub migrations: fn() -> &'static [Migration],
}

pub const SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        name: ordo_identity::NAME,
        migrations: ordo_identity::migrations,
    },
    ServiceSpec {
        name: ordo_catalog::NAME,
        migrations: ordo_catalog::migrations,
    },
    ServiceSpec {
        name: ordo_inventory::NAME,
        migrations: ordo_inventory::migrations,
    },
    ServiceSpec {
        name: ordo_orders::NAME,
        migrations: ordo_orders::migrations,
    },
    ServiceSpec {
        name: ordo_payments::NAME,
        migrations: ordo_payments::migrations,
    },
    ServiceSpec {
        name: ordo_notifications::NAME,
        migrations: ordo_notifications::migrations,
    },
    ServiceSpec {
        name: ordo_cart::NAME,
        migrations: ordo_cart::migrations,
    },
];
