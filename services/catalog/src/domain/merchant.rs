use ordo_kernel::Violations;
use ordo_kernel::geo::{latitude, longitude};
use ordo_kernel::patch::{Editable, Patch};
use ordo_kernel::validation::text;
use std::str::FromStr;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MerchantKind {
    Restaurant,
    Shop,
}

impl MerchantKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MerchantKind::Restaurant => "restaurant",
            MerchantKind::Shop => "shop",
        }
    }
}

impl FromStr for MerchantKind {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "restaurant" => Ok(MerchantKind::Restaurant),
            "shop" => Ok(MerchantKind::Shop),
            _ => Err("must be restaurant or shop"),
        }
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MAX_OPENINGS: usize = 21;

/// One opening on one day, local time; `close` before `open` runs past midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub day: String,
    pub open: String,
    pub close: String,
}

fn clock(value: &str) -> Result<String, &'static str> {
    let valid = value.len() == 5
        && value.as_bytes()[2] == b':'
        && value[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && value[3..].parse::<u8>().is_ok_and(|m| m < 60)
        && value[..2]
            .bytes()
            .chain(value[3..].bytes())
            .all(|b| b.is_ascii_digit());
    if valid {
        Ok(value.to_owned())
    } else {
        Err("must be a time of day HH:MM, 00:00 to 23:59")
    }
}

fn openings(violations: &mut Violations, openings: Vec<Opening>) -> Vec<Opening> {
    if openings.len() > MAX_OPENINGS {
        violations.add(
            "opening_hours",
            format!("at most {MAX_OPENINGS} openings a week"),
        );
        return Vec::new();
    }
    openings
        .into_iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let day = o.day.trim().to_ascii_lowercase();
            let day = if DAYS.contains(&day.as_str()) {
                Some(day)
            } else {
                violations.add(
                    format!("opening_hours[{i}].day"),
                    "must be mon, tue, wed, thu, fri, sat or sun",
                );
                None
            };
            let open = violations.check(&format!("opening_hours[{i}].open"), clock(o.open.trim()));
            let close =
                violations.check(&format!("opening_hours[{i}].close"), clock(o.close.trim()));
            match (&open, &close) {
                (Some(open), Some(close)) if open == close => {
                    violations.add(format!("opening_hours[{i}].close"), "must differ from open");
                }
                _ => {}
            }
            Some(Opening {
                day: day?,
                open: open?,
                close: close?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Merchant {
    pub id: Uuid,
    pub name: String,
    pub kind: MerchantKind,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opening_hours: Vec<Opening>,
    pub staff: Vec<Uuid>,
    /// Its picture, if it has one.
    pub image: Option<Uuid>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A merchant as its creator describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMerchant {
    pub name: String,
    pub kind: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opening_hours: Vec<Opening>,
}

/// Valid merchant fields.
#[derive(Debug, Clone, PartialEq)]
pub struct MerchantFields {
    pub name: String,
    pub kind: MerchantKind,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub opening_hours: Vec<Opening>,
}

impl NewMerchant {
    /// # Errors
    /// Every field that breaks a rule.
    pub fn validate(self) -> Result<MerchantFields, Violations> {
        let mut v = Violations::new();
        let name = v.check("name", text(&self.name, 1, 120));
        let kind = v.check("kind", self.kind.parse::<MerchantKind>());
        let address = v.check("address", text(&self.address, 1, 300));
        let lat = v.check("lat", latitude(self.lat));
        let lon = v.check("lon", longitude(self.lon));
        let opening_hours = openings(&mut v, self.opening_hours);
        match (name, kind, address, lat, lon) {
            (Some(name), Some(kind), Some(address), Some(lat), Some(lon)) if v.is_empty() => {
                Ok(MerchantFields {
                    name,
                    kind,
                    address,
                    lat,
                    lon,
                    opening_hours,
                })
            }
            _ => Err(v),
        }
    }
}

/// A partial update of a merchant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MerchantChange {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub opening_hours: Option<Vec<Opening>>,
}

impl Editable for Merchant {
    type Draft = NewMerchant;
    type Valid = MerchantFields;

    fn draft(&self) -> NewMerchant {
        NewMerchant {
            name: self.name.clone(),
            kind: self.kind.as_str().to_owned(),
            address: self.address.clone(),
            lat: self.lat,
            lon: self.lon,
            opening_hours: self.opening_hours.clone(),
        }
    }

    fn validate(draft: NewMerchant) -> Result<MerchantFields, Violations> {
        draft.validate()
    }

    fn keep(&mut self, valid: MerchantFields) {
        self.name = valid.name;
        self.kind = valid.kind;
        self.address = valid.address;
        self.lat = valid.lat;
        self.lon = valid.lon;
        self.opening_hours = valid.opening_hours;
    }
}

impl Patch<NewMerchant> for MerchantChange {
    fn merged(self, current: NewMerchant) -> NewMerchant {
        NewMerchant {
            name: self.name.unwrap_or(current.name),
            kind: self.kind.unwrap_or(current.kind),
            address: self.address.unwrap_or(current.address),
            lat: self.lat.unwrap_or(current.lat),
            lon: self.lon.unwrap_or(current.lon),
            opening_hours: self.opening_hours.unwrap_or(current.opening_hours),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new() -> NewMerchant {
        NewMerchant {
            name: " Trattoria Roma ".into(),
            kind: "restaurant".into(),
            address: "Kastanienallee 1, Berlin".into(),
            lat: 52.54,
            lon: 13.41,
            opening_hours: vec![Opening {
                day: "Fri".into(),
                open: "18:00".into(),
                close: "02:00".into(),
            }],
        }
    }

    #[test]
    fn a_valid_merchant_is_normalised() {
        let fields = new().validate().unwrap();
        assert_eq!(fields.name, "Trattoria Roma");
        assert_eq!(fields.kind, MerchantKind::Restaurant);
        assert_eq!(fields.opening_hours[0].day, "fri");
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = NewMerchant {
            name: String::new(),
            kind: "kiosk".into(),
            address: "x".into(),
            lat: 95.0,
            lon: 0.0,
            opening_hours: vec![Opening {
                day: "someday".into(),
                open: "25:00".into(),
                close: "9:5".into(),
            }],
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect();
        for field in [
            "name",
            "kind",
            "lat",
            "opening_hours[0].day",
            "opening_hours[0].open",
            "opening_hours[0].close",
        ] {
            assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
        }
    }

    #[test]
    fn a_change_is_validated_as_a_whole_and_leaves_nothing_half_done() {
        let fields = new().validate().unwrap();
        let mut merchant = Merchant {
            id: Uuid::now_v7(),
            name: fields.name,
            kind: fields.kind,
            address: fields.address,
            lat: fields.lat,
            lon: fields.lon,
            opening_hours: fields.opening_hours,
            staff: vec![],
            image: None,
            created_at: ordo_kernel::time::now(),
            updated_at: ordo_kernel::time::now(),
        };
        let before = merchant.clone();
        let bad = MerchantChange {
            name: Some("New name".into()),
            lon: Some(200.0),
            ..MerchantChange::default()
        };
        assert!(ordo_kernel::patch::apply(&mut merchant, bad).is_err());
        assert_eq!(merchant, before);
        let good = MerchantChange {
            kind: Some("shop".into()),
            ..MerchantChange::default()
        };
        ordo_kernel::patch::apply(&mut merchant, good).unwrap();
        assert_eq!(merchant.kind, MerchantKind::Shop);
    }
}
