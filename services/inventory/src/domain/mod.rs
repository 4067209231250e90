//! Inventory's rules: what a valid stock level and reservation request are, and how a
//! reservation moves. No I/O.

use ordo_contracts::inventory::ReservationLine;
use ordo_kernel::Violations;
use std::collections::BTreeMap;
use std::str::FromStr;
use uuid::Uuid;

/// The one location until stock is kept per warehouse or shop.
pub const DEFAULT_LOCATION: &str = "default";
pub const MAX_ON_HAND: i64 = 1_000_000;
pub const MAX_QUANTITY: i64 = 1_000;
pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock {
    pub on_hand: i64,
    pub reserved: i64,
}

impl Stock {
    #[must_use]
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// # Errors
/// When the level is negative or absurd.
pub fn on_hand(value: i64) -> Result<i64, Violations> {
    if (0..=MAX_ON_HAND).contains(&value) {
        Ok(value)
    } else {
        let mut v = Violations::new();
        v.add("on_hand", format!("must be between 0 and {MAX_ON_HAND}"));
        Err(v)
    }
}

/// The lines of a reservation with the same product added up, in product order (the order
/// rows are locked in, so that two reservations never wait on each other).
///
/// # Errors
/// No lines, too many, or a quantity out of range.
pub fn aggregate(lines: &[ReservationLine]) -> Result<Vec<(Uuid, i64)>, Violations> {
    let mut v = Violations::new();
    if lines.is_empty() {
        v.add("lines", "must not be empty");
    }
    if lines.len() > MAX_LINES {
        v.add("lines", format!("at most {MAX_LINES} lines"));
    }
    let mut totals: BTreeMap<Uuid, i64> = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        if (1..=MAX_QUANTITY).contains(&line.quantity) {
            *totals.entry(line.product_id).or_default() += line.quantity;
        } else {
            v.add(
                format!("lines[{i}].quantity"),
                format!("must be between 1 and {MAX_QUANTITY}"),
            );
        }
    }
    v.into_result(|| totals.into_iter().collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationStatus {
    /// Stock is held for the order.
    Held,
    /// The order was paid: the stock left on_hand.
    Committed,
    /// The order ended unpaid: the hold was given back.
    Released,
    /// The hold ran out before payment.
    Expired,
    /// A paid order was cancelled: its stock went back on the shelf.
    Returned,
}

impl ReservationStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Committed => "committed",
            Self::Released => "released",
            Self::Expired => "expired",
            Self::Returned => "returned",
        }
    }
}

impl FromStr for ReservationStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "held" => Self::Held,
            "committed" => Self::Committed,
            "released" => Self::Released,
            "expired" => Self::Expired,
            "returned" => Self::Returned,
            other => return Err(format!("unknown reservation status {other}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product_id: Uuid, quantity: i64) -> ReservationLine {
        ReservationLine {
            product_id,
            quantity,
        }
    }

    #[test]
    fn lines_of_one_product_are_added_up_in_product_order() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let totals = aggregate(&[line(b, 2), line(a, 1), line(b, 3)]).unwrap();
        assert_eq!(totals, vec![(a, 1), (b, 5)]);
    }

    #[test]
    fn bad_requests_name_their_lines() {
        let a = Uuid::now_v7();
        let fields: Vec<String> = aggregate(&[line(a, 0), line(a, 1001)])
            .unwrap_err()
            .into_vec()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["lines[0].quantity", "lines[1].quantity"]);
        assert!(aggregate(&[]).is_err());
        assert!(on_hand(-1).is_err());
        assert_eq!(on_hand(5).unwrap(), 5);
    }
}
