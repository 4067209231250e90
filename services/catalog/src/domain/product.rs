use ordo_kernel::patch::{Editable, Patch};
use ordo_kernel::validation::{free_text, text};
use ordo_kernel::{Money, Violations};
use time::OffsetDateTime;
use uuid::Uuid;

const MAX_TAGS: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Money,
    pub sku: Option<String>,
    pub tags: Vec<String>,
    pub active: bool,
    /// Its picture, if it has one.
    pub image: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A product as its merchant describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Money,
    pub sku: Option<String>,
    pub tags: Vec<String>,
    pub active: bool,
}

/// Valid product fields.
pub type ProductFields = NewProduct;

fn sku(value: &str) -> Result<String, &'static str> {
    let value = value.trim();
    if (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Ok(value.to_owned())
    } else {
        Err("must be 1-64 letters, digits, `-`, `_` or `.`")
    }
}

fn tags(violations: &mut Violations, tags: Vec<String>) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        violations.add("tags", format!("at most {MAX_TAGS} tags"));
        return Vec::new();
    }
    let mut clean: Vec<String> = Vec::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        if let Some(tag) = violations.check(&format!("tags[{i}]"), text(tag, 1, 30)) {
            let tag = tag.to_lowercase();
            if !clean.contains(&tag) {
                clean.push(tag);
            }
        }
    }
    clean
}

impl NewProduct {
    /// Normalises (trims, lower-cases tags, upper-cases the currency) and validates.
    ///
    /// # Errors
    /// Every field that breaks a rule.
    pub fn validate(self) -> Result<ProductFields, Violations> {
        let mut v = Violations::new();
        let name = v.check("name", text(&self.name, 1, 120));
        let description = v.check("description", free_text(&self.description, 0, 2000));
        let category = v.check("category", text(&self.category, 1, 60));
        let price = v.check("price", self.price.validate());
        let sku = match self.sku.as_deref() {
            Some(raw) => v.check("sku", sku(raw)),
            None => None,
        };
        let tags = tags(&mut v, self.tags);
        match (name, description, category, price) {
            (Some(name), Some(description), Some(category), Some(price)) if v.is_empty() => {
                Ok(NewProduct {
                    name,
                    description,
                    category,
                    price,
                    sku,
                    tags,
                    active: self.active,
                })
            }
            _ => Err(v),
        }
    }
}

/// A partial update; `sku: Some(None)` removes the SKU.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub price: Option<Money>,
    pub sku: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub active: Option<bool>,
}

impl Editable for Product {
    type Draft = NewProduct;
    type Valid = ProductFields;

    fn draft(&self) -> NewProduct {
        NewProduct {
            name: self.name.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            price: self.price.clone(),
            sku: self.sku.clone(),
            tags: self.tags.clone(),
            active: self.active,
        }
    }

    fn validate(draft: NewProduct) -> Result<ProductFields, Violations> {
        draft.validate()
    }

    fn keep(&mut self, valid: ProductFields) {
        self.name = valid.name;
        self.description = valid.description;
        self.category = valid.category;
        self.price = valid.price;
        self.sku = valid.sku;
        self.tags = valid.tags;
        self.active = valid.active;
    }
}

impl Patch<NewProduct> for ProductChange {
    fn merged(self, current: NewProduct) -> NewProduct {
        NewProduct {
            name: self.name.unwrap_or(current.name),
            description: self.description.unwrap_or(current.description),
            category: self.category.unwrap_or(current.category),
            price: self.price.unwrap_or(current.price),
            sku: self.sku.unwrap_or(current.sku),
            tags: self.tags.unwrap_or(current.tags),
            active: self.active.unwrap_or(current.active),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new() -> NewProduct {
        NewProduct {
            name: "Margherita".into(),
            description: "Tomato, mozzarella, basil".into(),
            category: "Pizza".into(),
            price: Money {
                amount: 950,
                currency: "eur".into(),
            },
            sku: Some("PIZ-1".into()),
            tags: vec!["Vegetarian".into(), "vegetarian".into()],
            active: true,
        }
    }

    #[test]
    fn a_valid_product_is_normalised() {
        let product = new().validate().unwrap();
        assert_eq!(product.price.currency, "EUR");
        assert_eq!(product.tags, vec!["vegetarian".to_owned()]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = NewProduct {
            name: String::new(),
            price: Money {
                amount: -5,
                currency: "EUR".into(),
            },
            sku: Some("no spaces".into()),
            tags: vec![String::new()],
            ..new()
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, vec!["name", "price", "sku", "tags[0]"]);
    }
}
