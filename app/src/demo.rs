//! The demo city: a few merchants in Berlin with menus and stock, a customer with a saved
//! address and card, merchant staff, couriers and an administrator — so that someone new
//! places an order within a minute. Loaded through the services' own use cases, once per
//! data dir; the passwords are made up at load time and printed once. Every merchant and
//! product has a picture, drawn as it is loaded.

mod pictures;

use crate::platform::Platform;
use anyhow::Context;
use ordo_bus::EventMeta;
use ordo_catalog::Catalog;
use ordo_catalog::{ImageType, Owner};
use ordo_delivery::Delivery;
use ordo_identity::Identity;
use ordo_identity::{NewAddress, Registration};
use ordo_inventory::Inventory;
use ordo_kernel::Caller;
use ordo_kernel::PostalAddress;
use ordo_kernel::trace::TraceContext;
use ordo_kernel::{Money, Role};
use ordo_payments::{CardDetails, Payments};
use uuid::Uuid;

const ADMIN_EMAIL: &str = "admin@demo.ordo.dev";

/// An account made for the demo.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: Role,
    pub email: String,
    pub password: String,
    pub note: String,
}

struct Menu {
    merchant: &'static str,
    kind: &'static str,
    address: &'static str,
    lat: f64,
    lon: f64,
    staff_email: &'static str,
    staff_name: &'static str,
    products: &'static [(&'static str, &'static str, i64, i64)],
}

/// (name, category, price in cents, stock)
const MENUS: [Menu; 3] = [
    Menu {
        merchant: "Trattoria Luigi",
        kind: "restaurant",
        address: "Kastanienallee 70, 10435 Berlin",
        lat: 52.5386,
        lon: 13.4124,
        staff_email: "luigi@demo.ordo.dev",
        staff_name: "Luigi Rossi",
        products: &[
            ("Pizza Margherita", "Pizza", 950, 40),
            ("Pizza Diavola", "Pizza", 1150, 30),
            ("Lasagne al forno", "Pasta", 1250, 20),
            ("Tiramisù", "Dolci", 650, 25),
            ("Limonata", "Drinks", 350, 60),
        ],
    },
    Menu {
        merchant: "Mei's Noodle Bar",
        kind: "restaurant",
        address: "Rosenthaler Straße 40, 10178 Berlin",
        lat: 52.5246,
        lon: 13.4020,
        staff_email: "mei@demo.ordo.dev",
        staff_name: "Mei Chen",
        products: &[
            ("Dan Dan Noodles", "Noodles", 1090, 35),
            ("Wonton Soup", "Soups", 850, 25),
            ("Mapo Tofu", "Mains", 1190, 20),
            ("Jasmine Tea", "Drinks", 290, 80),
        ],
    },
    Menu {
        merchant: "Kiez Kiosk",
        kind: "shop",
        address: "Oranienstraße 180, 10999 Berlin",
        lat: 52.4996,
        lon: 13.4180,
        staff_email: "kiosk@demo.ordo.dev",
        staff_name: "Aylin Demir",
        products: &[
            ("Oat Milk 1 l", "Dairy & alternatives", 229, 50),
            ("Sourdough Bread", "Bakery", 450, 15),
            ("Club-Mate 0.5 l", "Drinks", 190, 100),
            ("Dark Chocolate", "Sweets", 299, 40),
        ],
    },
];

fn password() -> String {
    format!("demo-{}", &Uuid::new_v4().simple().to_string()[..12])
}

fn caller(id: Uuid, role: Role) -> Caller {
    Caller { user_id: id, role }
}

async fn register(
    identity: &Identity,
    email: &str,
    name: &str,
    role: Role,
    accounts: &mut Vec<DemoAccount>,
    note: &str,
) -> anyhow::Result<Uuid> {
    let password = password();
    let registration = Registration::parse(email, &password, name, Some(role))
        .map_err(|v| anyhow::anyhow!("demo account {email}: {v}"))?;
    let user = identity.register(registration).await?;
    accounts.push(DemoAccount {
        role,
        email: email.to_owned(),
        password,
        note: note.to_owned(),
    });
    Ok(user.id)
}

/// Loads the demo city. `None` when it was loaded before (into this data dir or database).
///
/// # Errors
/// A use case failing.
pub async fn load(platform: &Platform) -> anyhow::Result<Option<Vec<DemoAccount>>> {
    let identity = platform.service::<Identity>()?;
    let catalog = platform.service::<Catalog>()?;
    let inventory = platform.service::<Inventory>()?;
    let payments = platform.service::<Payments>()?;
    let admin_password = password();
    match identity.create_admin(ADMIN_EMAIL, &admin_password).await {
        Ok(_) => {}
        Err(ordo_identity::AppError::Service(ordo_identity::IdentityError::EmailTaken)) => {
            return Ok(None);
        }
        Err(other) => return Err(other).context("creating the demo administrator"),
    }
    let mut accounts = vec![DemoAccount {
        role: Role::Admin,
        email: ADMIN_EMAIL.into(),
        password: admin_password,
        note: "the operator console at /ops".into(),
    }];

    for menu in &MENUS {
        let owner = register(
            &identity,
            menu.staff_email,
            menu.staff_name,
            Role::Merchant,
            &mut accounts,
            menu.merchant,
        )
        .await?;
        let owner = caller(owner, Role::Merchant);
        let merchant = catalog
            .create_merchant(
                &owner,
                ordo_catalog::NewMerchant {
                    name: menu.merchant.into(),
                    kind: menu.kind.into(),
                    address: menu.address.into(),
                    lat: menu.lat,
                    lon: menu.lon,
                    opening_hours: Vec::new(),
                },
                &EventMeta::default(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo merchant {}: {e}", menu.merchant))?;
        let plate = if menu.kind == "shop" {
            pictures::Plate::Square
        } else {
            pictures::Plate::Round
        };
        let picture = async |owner_kind, id, name: &str| {
            let width = if owner_kind == Owner::Merchant {
                pictures::MERCHANT_WIDTH
            } else {
                pictures::PRODUCT_WIDTH
            };
            let drawn = pictures::draw(name, plate, width)?;
            catalog
                .set_image(&owner, owner_kind, id, ImageType::Png, drawn.into())
                .await
                .map_err(|e| anyhow::anyhow!("demo picture of {name}: {e}"))
        };
        picture(Owner::Merchant, merchant.id, menu.merchant).await?;
        for (name, category, cents, stock) in menu.products {
            let product = catalog
                .create_product(
                    &owner,
                    merchant.id,
                    ordo_catalog::NewProduct {
                        name: (*name).into(),
                        description: String::new(),
                        category: (*category).into(),
                        price: Money {
                            amount: *cents,
                            currency: "EUR".into(),
                        },
                        sku: None,
                        tags: Vec::new(),
                        active: true,
                    },
                    &EventMeta::default(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("demo product {name}: {e}"))?;
            picture(Owner::Product, product.id, name).await?;
            inventory
                .set_stock(&owner, product.id, *stock, None, &EventMeta::default())
                .await
                .map_err(|e| anyhow::anyhow!("demo stock of {name}: {e}"))?;
        }
    }

    let customer = register(
        &identity,
        "ada@demo.ordo.dev",
        "Ada Lovelace",
        Role::Customer,
        &mut accounts,
        "has an address and a card (4242…)",
    )
    .await?;
    identity
        .add_address(
            customer,
            NewAddress {
                label: Some("Home".into()),
                postal: PostalAddress {
                    line1: "Kastanienallee 12".into(),
                    line2: None,
                    city: "Berlin".into(),
                    postal_code: "10435".into(),
                    country: "DE".into(),
                    lat: 52.5389,
                    lon: 13.4100,
                },
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo address: {e}"))?;
    payments
        .add_method(
            &caller(customer, Role::Customer),
            CardDetails {
                number: "4242424242424242".into(),
                exp_month: 12,
                exp_year: 2030,
                cvc: "123".into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo card: {e}"))?;
    let delivery = platform.service::<Delivery>()?;
    for (email, name, at) in [
        ("carla@demo.ordo.dev", "Carla Courier", (52.5300, 13.4050)),
        ("ben@demo.ordo.dev", "Ben Bike", (52.5150, 13.3950)),
    ] {
        let courier = register(
            &identity,
            email,
            name,
            Role::Courier,
            &mut accounts,
            "courier, online near the merchants",
        )
        .await?;
        let courier = caller(courier, Role::Courier);
        let online = async {
            delivery.set_availability(&courier, true).await?;
            delivery
                .locate(&courier, at.0, at.1, TraceContext::new_root())
                .await?;
            // Written now: a demo loaded by `ordo demo` ends before the next write.
            delivery.persist_positions(ordo_kernel::time::now()).await
        };
        online
            .await
            .map_err(|e| anyhow::anyhow!("demo courier: {e}"))?;
    }
    Ok(Some(accounts))
}

/// The accounts as a table, for the terminal.
#[must_use]
pub fn table(accounts: &[DemoAccount], address: &str) -> String {
    let mut out = format!(
        "\nDemo city loaded. Passwords are shown this once.\n\n{:<9} {:<24} {:<20} {}\n",
        "role", "email", "password", ""
    );
    for account in accounts {
        out.push_str(&format!(
            "{:<9} {:<24} {:<20} {}\n",
            account.role.as_str(),
            account.email,
            account.password,
            account.note
        ));
    }
    out.push_str(&format!(
        "\nTry: log in as ada@demo.ordo.dev at {address}/api/v1/auth/login, list merchants near her\n\
         with GET /api/v1/merchants?near=52.5389,13.41, and POST /api/v1/orders.\n"
    ));
    out
}
