//! A postal address with its position. Customers keep theirs with identity; an order carries
//! a copy, so that a later edit of the saved one moves no delivery; the events and the
//! answers carry the same fields.

use crate::geo::{latitude, longitude};
use crate::patch::nullable;
use crate::validation::{Violations, text};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// Read tolerantly, as events are (a field it does not know is ignored); a request refuses
// such a field through `ordo_http::Strict`.
/// A postal address with its position (WGS 84 degrees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PostalAddress {
    #[schema(schema_with = crate::schema::line::<200>)]
    pub line1: String,
    /// Blank is the same as absent.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub line2: Option<String>,
    #[schema(schema_with = crate::schema::line::<100>)]
    pub city: String,
    #[schema(schema_with = crate::schema::line::<20>)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    #[schema(pattern = r"^\s*[A-Za-z]{2}\s*$")]
    pub country: String,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
}

impl PostalAddress {
    /// Normalises (trimmed, the country upper case, a blank second line dropped) and checks
    /// every field.
    ///
    /// # Errors
    /// Every field that breaks a rule, by its own name (`line1`, …).
    pub fn validate(self) -> Result<PostalAddress, Violations> {
        let mut v = Violations::new();
        let line1 = v.check("line1", text(&self.line1, 1, 200));
        let line2 = match self.line2.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(line) => v.check("line2", text(line, 1, 200)),
        };
        let city = v.check("city", text(&self.city, 1, 100));
        let postal_code = v.check("postal_code", text(&self.postal_code, 1, 20));
        let country = v.check("country", country(&self.country));
        let lat = v.check("lat", latitude(self.lat));
        let lon = v.check("lon", longitude(self.lon));
        match (line1, city, postal_code, country, lat, lon) {
            (Some(line1), Some(city), Some(postal_code), Some(country), Some(lat), Some(lon))
                if v.is_empty() =>
            {
                Ok(PostalAddress {
                    line1,
                    line2,
                    city,
                    postal_code,
                    country,
                    lat,
                    lon,
                })
            }
            _ => Err(v),
        }
    }

    /// One line for people to read: `Alexanderplatz 1, Hof, 10178 Berlin, DE`.
    #[must_use]
    pub fn one_line(&self) -> String {
        let line2 = self
            .line2
            .as_deref()
            .map(|line| format!(", {line}"))
            .unwrap_or_default();
        format!(
            "{}{line2}, {} {}, {}",
            self.line1, self.postal_code, self.city, self.country
        )
    }
}

fn country(raw: &str) -> Result<String, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be an ISO 3166-1 alpha-2 country code, e.g. DE")
    }
}

/// A partial change of an address: an absent field keeps its value, `line2: null` clears
/// the second line.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
pub struct PostalChange {
    #[schema(schema_with = crate::schema::optional_line::<200>)]
    pub line1: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")]
    pub line2: Option<Option<String>>,
    #[schema(schema_with = crate::schema::optional_line::<100>)]
    pub city: Option<String>,
    #[schema(schema_with = crate::schema::optional_line::<20>)]
    pub postal_code: Option<String>,
    #[schema(pattern = r"^\s*[A-Za-z]{2}\s*$")]
    pub country: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
}

impl crate::patch::Patch<PostalAddress> for PostalChange {
    fn merged(self, current: PostalAddress) -> PostalAddress {
        PostalAddress {
            line1: self.line1.unwrap_or(current.line1),
            line2: self.line2.unwrap_or(current.line2),
            city: self.city.unwrap_or(current.city),
            postal_code: self.postal_code.unwrap_or(current.postal_code),
            country: self.country.unwrap_or(current.country),
            lat: self.lat.unwrap_or(current.lat),
            lon: self.lon.unwrap_or(current.lon),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::Patch;

    fn berlin() -> PostalAddress {
        PostalAddress {
            line1: " Alexanderplatz 1 ".into(),
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
        assert_eq!(address.line1, "Alexanderplatz 1");
        assert_eq!(address.country, "DE");
        assert_eq!(address.line2, None);
        assert_eq!(address.one_line(), "Alexanderplatz 1, 10178 Berlin, DE");
    }

    #[test]
    fn every_bad_field_is_reported_by_name() {
        let bad = PostalAddress {
            line1: String::new(),
            country: "Germany".into(),
            lat: 91.0,
            lon: f64::NAN,
            ..berlin()
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .within("address")
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "address.line1",
                "address.country",
                "address.lat",
                "address.lon"
            ]
        );
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_null_clears_the_second_line() {
        let current = PostalAddress {
            line2: Some("Hof".into()),
            ..berlin()
        };
        let change: PostalChange =
            serde_json::from_str(r#"{"city": "Potsdam", "line2": null}"#).unwrap();
        let merged = change.merged(current.clone());
        assert_eq!(merged.city, "Potsdam");
        assert_eq!(merged.line2, None);
        assert_eq!(merged.postal_code, current.postal_code);
        let untouched = PostalChange::default().merged(current.clone());
        assert_eq!(untouched, current);
    }

    #[test]
    fn a_field_it_does_not_know_is_ignored_as_events_are_read() {
        let address: PostalAddress = serde_json::from_str(
            r#"{"line1": "a", "city": "b", "postal_code": "1", "country": "DE", "lat": 0, "lon": 0, "floor": 3}"#,
        )
        .unwrap();
        assert_eq!(address.line2, None);
    }
}
