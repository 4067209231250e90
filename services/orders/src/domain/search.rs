//! What an operator's search for orders may be: a text that may be an order's id, the
//! beginning of one or its reference, and filters.

use super::Status;
use time::OffsetDateTime;
use uuid::Uuid;

/// How many characters of an order's id its reference shows: the last eight hex digits,
/// as every app and message shows the order.
pub const REFERENCE_LEN: usize = 8;
/// The shortest beginning of an id a search takes for one.
pub const MIN_PREFIX: usize = 4;
/// The longest search text.
pub const MAX_QUERY: usize = 100;

/// The orders an operator looks for; every part given must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderSearch {
    /// The search text, trimmed.
    pub query: Option<String>,
    pub status: Option<Status>,
    pub merchant_id: Option<Uuid>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

/// A search text read as an order id: ids from `from` (inclusive) up to `until`
/// (exclusive; `None` past the last id) begin with it; `reference`, when it is as long as
/// one, is compared with the end of each id. The bounds are ids themselves, so that the
/// database compares them as it orders its ids, text or native.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdQuery {
    pub from: Uuid,
    pub until: Option<Uuid>,
    pub reference: Option<String>,
}

impl IdQuery {
    /// The text as the beginning of an id (dashes where an id has them, whether or not
    /// they were typed; any case), or `None` when it cannot be one.
    #[must_use]
    pub fn parse(text: &str) -> Option<IdQuery> {
        let digits: String = text
            .chars()
            .filter(|c| *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if digits.len() < MIN_PREFIX
            || digits.len() > 32
            || !digits.chars().all(|c| c.is_ascii_hexdigit())
        {
            return None;
        }
        let prefix = u128::from_str_radix(&digits, 16).ok()?;
        // The digits not typed, four bits each, are zero in the first id with the beginning.
        let rest = 4 * (32 - u32::try_from(digits.len()).ok()?);
        let from = prefix << rest;
        let until = from.checked_add(1 << rest).map(Uuid::from_u128);
        let reference = (digits.len() == REFERENCE_LEN).then_some(digits);
        Some(IdQuery {
            from: Uuid::from_u128(from),
            until,
            reference,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_read_with_or_without_dashes_in_any_case() {
        let id = "0190F3A2-7B4C-7D8E-9F01-23456789ABCD";
        let whole = IdQuery::parse(id).unwrap();
        assert_eq!(whole.from.to_string(), id.to_lowercase());
        assert_eq!(IdQuery::parse(&id.replace('-', "")), Some(whole));
        let part = IdQuery::parse("0190f3a27b").unwrap();
        assert_eq!(part.from, uuid("0190f3a2-7b00-0000-0000-000000000000"));
        assert_eq!(
            part.until,
            Some(uuid("0190f3a2-7c00-0000-0000-000000000000"))
        );
        assert_eq!(part.reference, None);
    }

    fn uuid(text: &str) -> Uuid {
        Uuid::parse_str(text).unwrap()
    }

    #[test]
    fn a_whole_id_is_the_only_one_in_its_bounds() {
        let q = IdQuery::parse("0190f3a2-7b4c-7d8e-9f01-23456789abcd").unwrap();
        assert_eq!(q.from, uuid("0190f3a2-7b4c-7d8e-9f01-23456789abcd"));
        assert_eq!(q.until, Some(uuid("0190f3a2-7b4c-7d8e-9f01-23456789abce")));
        let last = IdQuery::parse("ffff").unwrap();
        assert_eq!(last.from, uuid("ffff0000-0000-0000-0000-000000000000"));
        assert_eq!(last.until, None, "no id comes after the last ones");
    }

    #[test]
    fn eight_digits_may_be_a_reference_too() {
        let q = IdQuery::parse(" 89abcdef".trim()).unwrap();
        assert_eq!(q.reference.as_deref(), Some("89abcdef"));
        assert_eq!(q.from, uuid("89abcdef-0000-0000-0000-000000000000"));
    }

    #[test]
    fn short_or_other_texts_are_no_id() {
        for text in [
            "abc",
            "ada@demo.ordo.dev",
            "Trattoria",
            "0190f3a2-7b4c-7d8e-9f01-23456789abcd0",
            "12 34",
        ] {
            assert_eq!(IdQuery::parse(text), None, "{text}");
        }
    }
}
