//! Cards as customers type them, checked before any provider sees them; payments and their
//! status table (`payment`). No I/O.

mod payment;
mod request;

pub use payment::{Action, Payment, PaymentMethod, PaymentStatus, RefundStatus, next};
pub use request::{
    Charge, ProviderRequest, RequestAction, authorisation_key, in_order, retry_after,
};

use ordo_kernel::Violations;

/// What a customer enters. The CVC goes to the provider and nowhere else.
#[derive(Clone, PartialEq, Eq)]
pub struct CardDetails {
    pub number: String,
    pub exp_month: i64,
    pub exp_year: i64,
    pub cvc: String,
}

impl std::fmt::Debug for CardDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardDetails")
            .field("last4", &self.last4())
            .field("exp_month", &self.exp_month)
            .field("exp_year", &self.exp_year)
            .finish_non_exhaustive()
    }
}

/// The Luhn checksum every card number carries.
#[must_use]
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(d) = c.to_digit(10) else {
            return false;
        };
        sum += if i % 2 == 1 {
            let doubled = d * 2;
            if doubled > 9 { doubled - 9 } else { doubled }
        } else {
            d
        };
    }
    sum % 10 == 0
}

#[must_use]
pub fn brand(number: &str) -> &'static str {
    let prefix = |n: usize| {
        number
            .get(..n)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    match (prefix(1), prefix(2), prefix(4)) {
        (4, _, _) => "visa",
        (_, 51..=55, _) | (_, _, 2221..=2720) => "mastercard",
        (_, 34 | 37, _) => "amex",
        (_, _, 6011) | (_, 65, _) => "discover",
        _ => "unknown",
    }
}

impl CardDetails {
    #[must_use]
    pub fn last4(&self) -> String {
        let digits: String = self.number.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(4)..].to_owned()
    }

    /// Strips spaces and dashes from the number and checks every field; `now_year` and
    /// `now_month` say which cards have expired.
    ///
    /// # Errors
    /// Every field that breaks a rule.
    pub fn validate(self, now_year: i64, now_month: i64) -> Result<CardDetails, Violations> {
        let mut v = Violations::new();
        let number: String = self
            .number
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if !(12..=19).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_digit()) {
            v.add("card_number", "must be 12 to 19 digits");
        } else if !luhn(&number) {
            v.add("card_number", "is not a valid card number (checksum)");
        }
        if !(1..=12).contains(&self.exp_month) {
            v.add("exp_month", "must be between 1 and 12");
        } else if self.exp_year < now_year
            || (self.exp_year == now_year && self.exp_month < now_month)
        {
            v.add("exp_year", "the card has expired");
        }
        if self.exp_year > now_year + 20 {
            v.add("exp_year", "is too far in the future");
        }
        if !(3..=4).contains(&self.cvc.len()) || !self.cvc.chars().all(|c| c.is_ascii_digit()) {
            v.add("cvc", "must be 3 or 4 digits");
        }
        v.into_result(|| CardDetails { number, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str) -> CardDetails {
        CardDetails {
            number: number.into(),
            exp_month: 12,
            exp_year: 2030,
            cvc: "123".into(),
        }
    }

    #[test]
    fn luhn_and_brands() {
        assert!(luhn("4242424242424242"));
        assert!(luhn("4000000000000002"));
        assert!(!luhn("4242424242424241"));
        assert_eq!(brand("4242424242424242"), "visa");
        assert_eq!(brand("5555555555554444"), "mastercard");
        assert_eq!(brand("378282246310005"), "amex");
    }

    #[test]
    fn cards_are_checked_and_never_show_their_number() {
        let valid = card("4242 4242 4242 4242").validate(2026, 11).unwrap();
        assert_eq!(valid.number, "4242424242424242");
        assert_eq!(valid.last4(), "4242");
        assert!(!format!("{valid:?}").contains("42424242"));
        assert!(!format!("{valid:?}").contains("123"));
        let fields: Vec<String> = CardDetails {
            exp_month: 13,
            cvc: "12".into(),
            ..card("4242424242424241")
        }
        .validate(2026, 11)
        .unwrap_err()
        .into_vec()
        .into_iter()
        .map(|v| v.field)
        .collect();
        assert_eq!(fields, ["card_number", "exp_month", "cvc"]);
        let expired = card("4242424242424242");
        assert!(
            CardDetails {
                exp_year: 2026,
                exp_month: 10,
                ..expired
            }
            .validate(2026, 11)
            .is_err()
        );
    }
}
