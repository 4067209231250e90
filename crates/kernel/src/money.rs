//! Money: integer minor units and an ISO 4217 currency. Never floating point.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The largest amount accepted anywhere (in minor units): ten million in a two-decimal
/// currency, far above any order, far below overflow when summed.
pub const MAX_AMOUNT: i64 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Minor units (cents for EUR and USD).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub amount: i64,
    /// ISO 4217 code, e.g. `EUR`.
    #[schema(pattern = r"^\s*[A-Za-z]{3}\s*$")]
    pub currency: String,
}

impl Money {
    /// Checks the amount (0 to `MAX_AMOUNT`) and the currency code, upper-casing it.
    ///
    /// # Errors
    /// What is wrong, for a 422.
    pub fn validate(self) -> Result<Money, String> {
        if !(0..=MAX_AMOUNT).contains(&self.amount) {
            return Err(format!(
                "amount must be between 0 and {MAX_AMOUNT} minor units"
            ));
        }
        Ok(Money {
            amount: self.amount,
            currency: currency(&self.currency)?,
        })
    }
}

/// An ISO 4217 currency code, trimmed and upper-cased.
///
/// # Errors
/// What is wrong, for a 422 or a configuration error.
pub fn currency(code: &str) -> Result<String, String> {
    let code = code.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("currency must be an ISO 4217 code such as EUR".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: i64, currency: &str) -> Money {
        Money {
            amount,
            currency: currency.to_owned(),
        }
    }

    #[test]
    fn amounts_and_currencies_are_checked() {
        assert_eq!(money(1250, " eur ").validate(), Ok(money(1250, "EUR")));
        assert!(money(-1, "EUR").validate().is_err());
        assert!(money(MAX_AMOUNT + 1, "EUR").validate().is_err());
        assert!(money(1, "EURO").validate().is_err());
        assert!(money(1, "E1R").validate().is_err());
    }
}
