//! Reviews: a rating from 1 to 5 and an optional comment on a completed order, by the
//! customer who placed it, once. A comment waits for a moderator; a bare rating has
//! nothing to moderate and is public at once. The merchant may answer once.

use ordo_kernel::Violations;
use time::OffsetDateTime;
use uuid::Uuid;

/// Characters a comment or an answer may have.
pub const MAX_TEXT: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Rejected,
}

impl Status {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "rejected" => Some(Status::Rejected),
            _ => None,
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Status::parse(text).ok_or_else(|| format!("no review status `{text}`"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub merchant_id: Uuid,
    pub product_ids: Vec<Uuid>,
    pub rating: i64,
    pub comment: Option<String>,
    pub status: Status,
    pub answer: Option<String>,
    pub answered_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// An order as reviews knows it: from the bus, or from the orders service when the bus
/// has not brought it yet.
pub use ordo_contracts::orders::Purchase;

/// The products a review of `purchase` rates, each once and in order: an order may list
/// one product on several lines.
#[must_use]
pub fn products(purchase: &Purchase) -> Vec<Uuid> {
    let mut products = purchase.product_ids.clone();
    products.sort_unstable();
    products.dedup();
    products
}

/// A review as its author sent it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    pub rating: i64,
    pub comment: Option<String>,
}

impl NewReview {
    /// # Errors
    /// The fields that are wrong: a rating outside 1 to 5, a comment too long or with
    /// control characters.
    pub fn validate(rating: i64, comment: Option<String>) -> Result<NewReview, Violations> {
        let mut v = Violations::new();
        if !(1..=5).contains(&rating) {
            v.add("rating", "must be a whole number from 1 to 5");
        }
        let comment = text(&mut v, "comment", comment);
        v.into_result(|| NewReview { rating, comment })
    }
}

/// The merchant's answer, checked: required, within the limits.
///
/// # Errors
/// When it is empty, too long or has control characters.
pub fn answer(text_sent: String) -> Result<String, Violations> {
    let mut v = Violations::new();
    let answer = text(&mut v, "text", Some(text_sent));
    if v.is_empty() && answer.is_none() {
        v.add("text", "must not be empty");
    }
    v.into_result(|| answer.unwrap_or_default())
}

/// Trimmed, `None` when empty; a violation on `field` when too long or with control
/// characters other than line breaks and tabs.
fn text(v: &mut Violations, field: &str, sent: Option<String>) -> Option<String> {
    let trimmed = sent.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if trimmed.chars().count() > MAX_TEXT {
        v.add(field, format!("must be at most {MAX_TEXT} characters"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        v.add(field, "must not contain control characters");
    }
    Some(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_and_comments_are_checked() {
        assert!(NewReview::validate(0, None).is_err());
        assert!(NewReview::validate(6, None).is_err());
        let bare = NewReview::validate(5, Some("   ".into())).unwrap();
        assert_eq!(bare.comment, None, "a blank comment is none");
        let said = NewReview::validate(1, Some(" cold soup ".into())).unwrap();
        assert_eq!(said.comment.as_deref(), Some("cold soup"));
        assert!(NewReview::validate(3, Some("x".repeat(MAX_TEXT + 1))).is_err());
        assert!(NewReview::validate(3, Some("bell\u{7}".into())).is_err());
        assert!(NewReview::validate(3, Some("two\nlines".into())).is_ok());
    }

    #[test]
    fn an_answer_says_something() {
        assert!(answer(" ".into()).is_err());
        assert_eq!(answer(" thanks ".into()).unwrap(), "thanks");
        assert!(answer("y".repeat(MAX_TEXT + 1)).is_err());
    }

    #[test]
    fn a_product_on_several_lines_is_rated_once() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let purchase = Purchase {
            order_id: Uuid::now_v7(),
            customer_id: Uuid::now_v7(),
            merchant_id: Uuid::now_v7(),
            product_ids: vec![b, a, b],
            completed: true,
        };
        assert_eq!(products(&purchase), [a, b]);
    }

    #[test]
    fn statuses_round_trip() {
        for status in [Status::Pending, Status::Approved, Status::Rejected] {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("published"), None);
    }
}
