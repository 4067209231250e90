use ordo_kernel::patch::{Editable, Patch};
use ordo_kernel::validation::text;
use ordo_kernel::{PostalAddress, PostalChange, Violations};
use time::OffsetDateTime;
use uuid::Uuid;

/// A saved delivery address.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub id: Uuid,
    pub user_id: Uuid,
    pub label: Option<String>,
    pub postal: PostalAddress,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The fields of an address as a client sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAddress {
    pub label: Option<String>,
    pub postal: PostalAddress,
}

/// A partial update; `label: Some(None)` clears the label.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressChange {
    pub label: Option<Option<String>>,
    pub postal: PostalChange,
}

impl NewAddress {
    /// Normalises and validates every field.
    ///
    /// # Errors
    /// Every field that breaks a rule.
    pub fn validate(self) -> Result<NewAddress, Violations> {
        let mut v = Violations::new();
        let label = self
            .label
            .as_deref()
            .filter(|label| !label.trim().is_empty())
            .and_then(|label| v.check("label", text(label, 1, 50)));
        let postal = v.absorb(self.postal.validate());
        match postal {
            Some(postal) if v.is_empty() => Ok(NewAddress { label, postal }),
            _ => Err(v),
        }
    }
}

impl Editable for Address {
    type Draft = NewAddress;
    type Valid = NewAddress;

    fn draft(&self) -> NewAddress {
        NewAddress {
            label: self.label.clone(),
            postal: self.postal.clone(),
        }
    }

    fn validate(draft: NewAddress) -> Result<NewAddress, Violations> {
        draft.validate()
    }

    fn keep(&mut self, valid: NewAddress) {
        self.label = valid.label;
        self.postal = valid.postal;
    }
}

impl Patch<NewAddress> for AddressChange {
    fn merged(self, current: NewAddress) -> NewAddress {
        NewAddress {
            label: self.label.unwrap_or(current.label),
            postal: self.postal.merged(current.postal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> NewAddress {
        NewAddress {
            label: Some("home".into()),
            postal: PostalAddress {
                line1: "Alexanderplatz 1".into(),
                line2: Some("  ".into()),
                city: "Berlin".into(),
                postal_code: "10178".into(),
                country: "de".into(),
                lat: 52.5219,
                lon: 13.4132,
            },
        }
    }

    #[test]
    fn a_valid_address_is_normalised() {
        let address = berlin().validate().unwrap();
        assert_eq!(address.postal.country, "DE");
        assert_eq!(address.postal.line2, None);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut bad = berlin();
        bad.label = Some("\u{7}".into());
        bad.postal.line1 = String::new();
        bad.postal.lat = 91.0;
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["label", "line1", "lat"]);
    }

    #[test]
    fn a_change_is_judged_by_the_address_it_makes() {
        let valid = berlin().validate().unwrap();
        let now = ordo_kernel::time::now();
        let mut address = Address {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            label: valid.label,
            postal: valid.postal,
            created_at: now,
            updated_at: now,
        };
        let before = address.clone();
        let bad = AddressChange {
            label: Some(None),
            postal: PostalChange {
                country: Some("Deutschland".into()),
                ..PostalChange::default()
            },
        };
        assert!(ordo_kernel::patch::apply(&mut address, bad).is_err());
        assert_eq!(
            address, before,
            "nothing kept from a change that breaks a rule"
        );
        let good = AddressChange {
            label: Some(None),
            postal: PostalChange {
                city: Some(" Potsdam ".into()),
                ..PostalChange::default()
            },
        };
        ordo_kernel::patch::apply(&mut address, good).unwrap();
        assert_eq!(address.label, None);
        assert_eq!(address.postal.city, "Potsdam");
        assert_eq!(address.postal.line1, before.postal.line1);
    }
}
