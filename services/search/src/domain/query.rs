//! A search as asked: its words, filters, sort and page, checked against the limits that
//! keep one query from costing the index much.

use super::text::words;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ordo_kernel::Violations;
use ordo_kernel::money::MAX_AMOUNT;
use ordo_kernel::paging::{DEFAULT_LIMIT, MAX_LIMIT};
use ordo_kernel::validation;
use uuid::Uuid;

/// Longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words a query may have; each costs a typo-tolerant lookup in every text field.
pub const MAX_WORDS: usize = 8;
pub const MAX_RADIUS_KM: f64 = 100.0;
/// Deepest result a cursor reaches: relevance pages are counted, not keyed.
pub const MAX_OFFSET: usize = 1_000;
pub const MAX_TAGS: usize = 10;
const MAX_FILTER_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first; equal matches by rating.
    Relevance,
    /// Nearest first (needs `near`).
    Distance,
    /// Best rated merchants first, then best match.
    Rating,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub lat: f64,
    pub lon: f64,
    /// Only what is within it, when given.
    pub radius_km: Option<f64>,
}

/// The query as it came, every field optional text.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryParams<'a> {
    pub q: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub category: Option<&'a str>,
    pub merchant: Option<&'a str>,
    pub tags: Option<&'a str>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub near: Option<&'a str>,
    pub radius_km: Option<f64>,
    pub open_now: Option<bool>,
    pub sort: Option<&'a str>,
    pub limit: Option<u32>,
    pub cursor: Option<&'a str>,
}

/// A valid search.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The words to match, as typed (the index normalises them).
    pub text: String,
    /// `restaurant` or `shop`.
    pub kind: Option<String>,
    /// Lower-cased.
    pub category: Option<String>,
    pub merchant: Option<Uuid>,
    /// Lower-cased; a product must have all.
    pub tags: Vec<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub near: Option<Near>,
    pub open_now: bool,
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
}

impl Query {
    /// Whether only products can match (a filter merchants do not have).
    #[must_use]
    pub fn products_only(&self) -> bool {
        self.category.is_some()
            || !self.tags.is_empty()
            || self.min_price.is_some()
            || self.max_price.is_some()
    }

    /// # Errors
    /// Every field that is out of its limits.
    pub fn parse(params: &QueryParams<'_>) -> Result<Query, Violations> {
        let mut v = Violations::new();
        let text = v
            .check(
                "q",
                validation::text(params.q.unwrap_or(""), 0, MAX_QUERY_CHARS),
            )
            .unwrap_or_default();
        if words(&text).len() > MAX_WORDS {
            v.add("q", format!("at most {MAX_WORDS} words"));
        }
        let kind = params.kind.map(str::trim).filter(|k| !k.is_empty());
        if kind.is_some_and(|k| !matches!(k, "restaurant" | "shop")) {
            v.add("kind", "must be restaurant or shop");
        }
        let category = filter_text(&mut v, "category", params.category);
        let merchant = params
            .merchant
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .and_then(|m| {
                v.check(
                    "merchant",
                    Uuid::parse_str(m).map_err(|_| "must be a merchant id"),
                )
            });
        let tags: Vec<String> = params
            .tags
            .unwrap_or("")
            .split(',')
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if tags.len() > MAX_TAGS {
            v.add("tags", format!("at most {MAX_TAGS} tags"));
        } else if let Some(Err(error)) = tags
            .iter()
            .map(|t| validation::text(t, 1, MAX_FILTER_CHARS))
            .find(Result::is_err)
        {
            v.add("tags", format!("each tag {error}"));
        }
        for (field, price) in [
            ("min_price", params.min_price),
            ("max_price", params.max_price),
        ] {
            if price.is_some_and(|p| !(0..=MAX_AMOUNT).contains(&p)) {
                v.add(
                    field,
                    format!("must be between 0 and {MAX_AMOUNT} minor units"),
                );
            }
        }
        if let (Some(min), Some(max)) = (params.min_price, params.max_price)
            && min > max
        {
            v.add("max_price", "must not be below min_price");
        }
        let near = near(&mut v, params.near, params.radius_km);
        let sort = match params.sort.map(str::trim).unwrap_or("relevance") {
            "relevance" | "" => Some(Sort::Relevance),
            "rating" => Some(Sort::Rating),
            "distance" if near.is_some() => Some(Sort::Distance),
            "distance" => {
                v.add("sort", "distance needs near");
                None
            }
            _ => {
                v.add("sort", "must be relevance, distance or rating");
                None
            }
        };
        let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            v.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
        }
        let offset = match params.cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => Some(0),
            Some(cursor) => v.check("cursor", decode_cursor(cursor)),
        };
        v.into_result(|| Query {
            text,
            kind: kind.map(str::to_owned),
            category,
            merchant,
            tags,
            min_price: params.min_price,
            max_price: params.max_price,
            near,
            open_now: params.open_now.unwrap_or(false),
            sort: sort.unwrap_or(Sort::Relevance),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            offset: offset.unwrap_or(0),
        })
    }
}

fn filter_text(v: &mut Violations, field: &str, value: Option<&str>) -> Option<String> {
    let value = value.map(str::trim).filter(|c| !c.is_empty())?;
    v.check(field, validation::text(value, 1, MAX_FILTER_CHARS))
        .map(|value| value.to_lowercase())
}

fn near(v: &mut Violations, near: Option<&str>, radius_km: Option<f64>) -> Option<Near> {
    if let Some(radius) = radius_km
        && !(radius.is_finite() && radius > 0.0 && radius <= MAX_RADIUS_KM)
    {
        v.add(
            "radius_km",
            format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
        );
    }
    let Some(text) = near.map(str::trim).filter(|n| !n.is_empty()) else {
        if radius_km.is_some() {
            v.add("radius_km", "only with near");
        }
        return None;
    };
    let Some((lat, lon)) = ordo_kernel::geo::point(text) else {
        v.add("near", "must be LAT,LON, e.g. 52.52,13.405");
        return None;
    };
    Some(Near {
        lat,
        lon,
        radius_km,
    })
}

/// The cursor of the page starting at `offset`.
#[must_use]
pub fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(u32::try_from(offset).unwrap_or(u32::MAX).to_be_bytes())
}

/// # Errors
/// When the text is not a cursor of ours, or reaches past `MAX_OFFSET`.
pub fn decode_cursor(text: &str) -> Result<usize, String> {
    let bytes: [u8; 4] = URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("invalid cursor")?;
    let offset = usize::try_from(u32::from_be_bytes(bytes)).map_err(|_| "invalid cursor")?;
    if offset > MAX_OFFSET {
        return Err(format!(
            "results beyond the first {MAX_OFFSET} are not paged; narrow the search"
        ));
    }
    Ok(offset)
}

/// A completion of what is being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// A product's or merchant's name.
    pub text: String,
    /// `product` or `merchant`.
    pub kind: &'static str,
    pub id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(params: QueryParams<'_>) -> Result<Query, Vec<String>> {
        Query::parse(&params).map_err(|v| v.into_vec().into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn hostile_queries_are_refused_by_field() {
        let long = "pizza ".repeat(2_000);
        assert_eq!(
            parse(QueryParams {
                q: Some(&long),
                ..QueryParams::default()
            }),
            Err(vec!["q".into()])
        );
        let many = "a b c d e f g h i j";
        assert_eq!(
            parse(QueryParams {
                q: Some(many),
                ..QueryParams::default()
            }),
            Err(vec!["q".into()])
        );
        for radius in [-1.0, 0.0, f64::NAN, f64::INFINITY, 101.0] {
            let asked = QueryParams {
                near: Some("52.5,13.4"),
                radius_km: Some(radius),
                ..QueryParams::default()
            };
            assert_eq!(parse(asked), Err(vec!["radius_km".into()]), "{radius}");
        }
        for near in ["NaN,NaN", "91,0", "52.5", "x,y", "inf,0"] {
            let asked = QueryParams {
                near: Some(near),
                ..QueryParams::default()
            };
            assert_eq!(parse(asked), Err(vec!["near".into()]), "{near}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for (q, category) in [(Some("pizza\u{0}"), None), (None, Some("\u{1b}[2J"))] {
            let asked = QueryParams {
                q,
                category,
                ..QueryParams::default()
            };
            assert!(parse(asked).is_err());
        }
    }

    #[test]
    fn punctuation_alone_is_a_query_without_words() {
        let query = parse(QueryParams {
            q: Some("\"*(("),
            ..QueryParams::default()
        })
        .unwrap();
        assert!(words(&query.text).is_empty());
    }

    #[test]
    fn cursors_carry_offsets_up_to_the_limit() {
        assert_eq!(decode_cursor(&encode_cursor(40)), Ok(40));
        assert!(decode_cursor(&encode_cursor(MAX_OFFSET + 1)).is_err());
        assert!(decode_cursor("not a cursor").is_err());
    }

    #[test]
    fn distance_needs_a_point() {
        let asked = QueryParams {
            sort: Some("distance"),
            ..QueryParams::default()
        };
        assert_eq!(parse(asked), Err(vec!["sort".into()]));
    }
}
