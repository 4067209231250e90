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
/// (exclusive) begin with it; `reference`, when it is as long as one, is compared with
/// the end of each id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdQuery {
    pub from: String,
    pub until: String,
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
        let mut from = String::with_capacity(36);
        for (i, c) in digits.chars().enumerate() {
            if matches!(i, 8 | 12 | 16 | 20) {
                from.push('-');
            }
            from.push(c);
        }
        // Every character an id holds after the beginning sorts below `g`.
        let until = format!("{from}g");
        let reference = (digits.len() == REFERENCE_LEN).then_some(digits);
        Some(IdQuery {
            from,
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
        assert_eq!(whole.from, id.to_lowercase());
        assert_eq!(IdQuery::parse(&id.replace('-', "")), Some(whole));
        let part = IdQuery::parse("0190f3a27b").unwrap();
        assert_eq!(part.from, "0190f3a2-7b");
        assert_eq!(part.until, "0190f3a2-7bg");
        assert_eq!(part.reference, None);
    }

    #[test]
    fn eight_digits_may_be_a_reference_too() {
        let q = IdQuery::parse(" 89abcdef".trim()).unwrap();
        assert_eq!(q.reference.as_deref(), Some("89abcdef"));
        assert_eq!(q.from, "89abcdef");
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
