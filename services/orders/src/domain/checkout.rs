//! A checkout request, validated, and its pricing from the catalogue's products.

use ordo_contracts::catalog::ProductSnapshot;
use ordo_kernel::validation::free_text;
use ordo_kernel::{Money, Violations};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

pub const MAX_ITEMS: usize = 100;
pub const MAX_QUANTITY: i64 = 1000;
pub const MAX_TIP: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfilment {
    Delivery,
    Shipping,
    Pickup,
}

impl Fulfilment {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Fulfilment::Delivery => "delivery",
            Fulfilment::Shipping => "shipping",
            Fulfilment::Pickup => "pickup",
        }
    }

    /// # Errors
    /// When the text names no fulfilment mode.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        match text {
            "delivery" => Ok(Fulfilment::Delivery),
            "shipping" => Ok(Fulfilment::Shipping),
            "pickup" => Ok(Fulfilment::Pickup),
            _ => Err("must be delivery, shipping or pickup"),
        }
    }
}

impl std::str::FromStr for Fulfilment {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Fulfilment::parse(text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub product_id: Uuid,
    pub quantity: i64,
}

/// What the customer asked for, checked field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkout {
    pub items: Vec<Item>,
    pub fulfilment: Fulfilment,
    pub payment_method_id: Option<Uuid>,
    pub tip: i64,
    pub notes: Option<String>,
}

impl Checkout {
    /// # Errors
    /// Every field that breaks a rule.
    pub fn validate(
        items: Vec<Item>,
        fulfilment: &str,
        payment_method_id: Option<Uuid>,
        tip: Option<i64>,
        notes: Option<String>,
    ) -> Result<Checkout, Violations> {
        let mut v = Violations::new();
        if items.is_empty() {
            v.add("items", "must not be empty");
        }
        if items.len() > MAX_ITEMS {
            v.add("items", format!("at most {MAX_ITEMS} items"));
        }
        for (i, item) in items.iter().enumerate() {
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                v.add(
                    format!("items[{i}].quantity"),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                );
            }
        }
        let fulfilment = v.check("fulfilment", Fulfilment::parse(fulfilment));
        if payment_method_id.is_none() {
            v.add("payment_method_id", "is required");
        }
        let tip = tip.unwrap_or(0);
        if !(0..=MAX_TIP).contains(&tip) {
            v.add(
                "tip",
                format!("must be between 0 and {MAX_TIP} minor units"),
            );
        }
        let notes = match notes.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(notes) => v.check("notes", free_text(notes, 1, 500)),
        };
        match fulfilment {
            Some(fulfilment) if v.is_empty() => Ok(Checkout {
                items,
                fulfilment,
                payment_method_id,
                tip,
                notes,
            }),
            _ => Err(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PricedLine {
    pub product_id: Uuid,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i64,
}

/// An order priced from the catalogue: one merchant, one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    pub merchant_id: Uuid,
    pub currency: String,
    pub lines: Vec<PricedLine>,
    pub subtotal: i64,
}

impl Pricing {
    #[must_use]
    pub fn total(&self, tip: i64) -> Money {
        Money {
            amount: self.subtotal + tip,
            currency: self.currency.clone(),
        }
    }
}

/// Prices `items` from `products` (the catalogue's answer for their ids).
///
/// # Errors
/// Unknown or unavailable products, several merchants or currencies, each named.
pub fn price(items: &[Item], products: &[ProductSnapshot]) -> Result<Pricing, Violations> {
    let by_id: BTreeMap<Uuid, &ProductSnapshot> =
        products.iter().map(|p| (p.product_id, p)).collect();
    let mut v = Violations::new();
    let mut lines = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match by_id.get(&item.product_id) {
            None => v.add(format!("items[{i}].product_id"), "no such product"),
            Some(product) if !product.active => v.add(
                format!("items[{i}].product_id"),
                format!("{} is not available", product.name),
            ),
            Some(product) => lines.push((*product, item.quantity)),
        }
    }
    let merchants: BTreeSet<Uuid> = lines.iter().map(|(p, _)| p.merchant_id).collect();
    if merchants.len() > 1 {
        let names: Vec<String> = merchants.iter().map(Uuid::to_string).collect();
        v.add(
            "items",
            format!(
                "one merchant per order; these items come from {}",
                names.join(", ")
            ),
        );
    }
    let currencies: BTreeSet<&str> = lines
        .iter()
        .map(|(p, _)| p.price.currency.as_str())
        .collect();
    if currencies.len() > 1 {
        v.add("items", "the items are priced in different currencies");
    }
    if !v.is_empty() || lines.is_empty() {
        return Err(v);
    }
    let merchant_id = lines[0].0.merchant_id;
    let currency = lines[0].0.price.currency.clone();
    let lines: Vec<PricedLine> = lines
        .into_iter()
        .map(|(p, quantity)| PricedLine {
            product_id: p.product_id,
            name: p.name.clone(),
            unit_price: p.price.amount,
            quantity,
        })
        .collect();
    let subtotal = lines.iter().map(|l| l.unit_price * l.quantity).sum();
    Ok(Pricing {
        merchant_id,
        currency,
        lines,
        subtotal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(merchant_id: Uuid, amount: i64, active: bool) -> ProductSnapshot {
        ProductSnapshot {
            product_id: Uuid::now_v7(),
            merchant_id,
            name: "Soup".into(),
            description: String::new(),
            category: "Soups".into(),
            price: Money {
                amount,
                currency: "EUR".into(),
            },
            sku: None,
            tags: vec![],
            active,
        }
    }

    #[test]
    fn prices_come_from_the_catalogue() {
        let m = Uuid::now_v7();
        let (a, b) = (product(m, 450, true), product(m, 300, true));
        let items = [
            Item {
                product_id: a.product_id,
                quantity: 2,
            },
            Item {
                product_id: b.product_id,
                quantity: 1,
            },
        ];
        let pricing = price(&items, &[a, b]).unwrap();
        assert_eq!(pricing.subtotal, 1200);
        assert_eq!(pricing.total(150).amount, 1350);
        assert_eq!(pricing.merchant_id, m);
    }

    #[test]
    fn unknown_inactive_and_mixed_merchants_are_refused() {
        let (a, b) = (
            product(Uuid::now_v7(), 100, true),
            product(Uuid::now_v7(), 100, true),
        );
        let off = product(a.merchant_id, 100, false);
        let items = [
            Item {
                product_id: a.product_id,
                quantity: 1,
            },
            Item {
                product_id: b.product_id,
                quantity: 1,
            },
            Item {
                product_id: off.product_id,
                quantity: 1,
            },
            Item {
                product_id: Uuid::now_v7(),
                quantity: 1,
            },
        ];
        let fields: Vec<String> = price(&items, &[a, b, off])
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            ["items[2].product_id", "items[3].product_id", "items"]
        );
    }

    #[test]
    fn notes_keep_their_lines_but_no_other_control_character() {
        let items = || {
            vec![Item {
                product_id: Uuid::now_v7(),
                quantity: 1,
            }]
        };
        let method = Some(Uuid::now_v7());
        let notes =
            |text: &str| Checkout::validate(items(), "pickup", method, None, Some(text.into()));
        assert_eq!(
            notes("ring twice\n\tthird floor").unwrap().notes.as_deref(),
            Some("ring twice\n\tthird floor")
        );
        for bad in ["ring\u{0}twice", "ring\u{1b}[2J\u{7}twice"] {
            let fields: Vec<String> = notes(bad)
                .unwrap_err()
                .into_vec()
                .into_iter()
                .map(|v| v.field)
                .collect();
            assert_eq!(fields, ["notes"], "{bad:?}");
        }
    }

    #[test]
    fn a_checkout_names_every_bad_field() {
        let items = vec![Item {
            product_id: Uuid::now_v7(),
            quantity: 0,
        }];
        let fields: Vec<String> = Checkout::validate(items, "drone", None, Some(-1), None)
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "items[0].quantity",
                "fulfilment",
                "payment_method_id",
                "tip"
            ]
        );
    }
}
