use ordo_kernel::Violations;
use ordo_kernel::geo::{latitude, longitude};
use ordo_kernel::validation::text;
use time::OffsetDateTime;
use uuid::Uuid;

/// A stored delivery address.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub id: Uuid,
    pub user_id: Uuid,
    pub label: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub lat: f64,
    pub lon: f64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The fields of an address as a client sends them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAddress {
    pub label: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub lat: f64,
    pub lon: f64,
}

/// A partial update; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressChange {
    pub label: Option<Option<String>>,
    pub line1: Option<String>,
    pub line2: Option<Option<String>>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

fn country(raw: &str) -> Result<String, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be an ISO 3166-1 alpha-2 country code, e.g. DE")
    }
}

fn optional(
    violations: &mut Violations,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    value
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| violations.check(field, text(v, 1, max)))
}

impl NewAddress {
    /// Normalises and validates every field.
    ///
    /// # Errors
    /// Every field that breaks a rule.
    pub fn validate(self) -> Result<NewAddress, Violations> {
        let mut v = Violations::new();
        let address = NewAddress {
            label: optional(&mut v, "label", self.label.as_deref(), 50),
            line1: v
                .check("line1", text(&self.line1, 1, 200))
                .unwrap_or_default(),
            line2: optional(&mut v, "line2", self.line2.as_deref(), 200),
            city: v
                .check("city", text(&self.city, 1, 100))
                .unwrap_or_default(),
            postal_code: v
                .check("postal_code", text(&self.postal_code, 1, 20))
                .unwrap_or_default(),
            country: v
                .check("country", country(&self.country))
                .unwrap_or_default(),
            lat: v.check("lat", latitude(self.lat)).unwrap_or_default(),
            lon: v.check("lon", longitude(self.lon)).unwrap_or_default(),
        };
        v.into_result(|| address)
    }
}

impl AddressChange {
    /// Applies the change to `address`, validating the result as a whole.
    ///
    /// # Errors
    /// Every field that breaks a rule.
    pub fn apply_to(self, address: &mut Address) -> Result<(), Violations> {
        let merged = NewAddress {
            label: self.label.unwrap_or_else(|| address.label.clone()),
            line1: self.line1.unwrap_or_else(|| address.line1.clone()),
            line2: self.line2.unwrap_or_else(|| address.line2.clone()),
            city: self.city.unwrap_or_else(|| address.city.clone()),
            postal_code: self
                .postal_code
                .unwrap_or_else(|| address.postal_code.clone()),
            country: self.country.unwrap_or_else(|| address.country.clone()),
            lat: self.lat.unwrap_or(address.lat),
            lon: self.lon.unwrap_or(address.lon),
        }
        .validate()?;
        address.label = merged.label;
        address.line1 = merged.line1;
        address.line2 = merged.line2;
        address.city = merged.city;
        address.postal_code = merged.postal_code;
        address.country = merged.country;
        address.lat = merged.lat;
        address.lon = merged.lon;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> NewAddress {
        NewAddress {
            label: Some("home".into()),
            line1: "Alexanderplatz 1".into(),
            line2: Some("  ".into()),
            city: "Berlin".into(),
            postal_code: "10178".into(),
            country: "de".into(),
            lat: 52.5219,
            lon: 13.4132,
        }
    }

    #[test]
    fn a_valid_address_is_normalised() {
        let address = berlin().validate().unwrap();
        assert_eq!(address.country, "DE");
        assert_eq!(address.line2, None);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = NewAddress {
            line1: String::new(),
            country: "Germany".into(),
            lat: 91.0,
            lon: f64::NAN,
            ..berlin()
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["line1", "country", "lat", "lon"]);
    }
}
