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
/// Rows a product's stock may be spread over (see [`Slot`]).
pub const MAX_SLOTS: i64 = 64;

/// A product's stock, all its slots together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock {
    pub on_hand: i64,
    pub reserved: i64,
    /// The rows it is kept in (see [`Slot`]).
    pub slots: i64,
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
    between("on_hand", value, 0, MAX_ON_HAND)
}

/// `value` of `field` when it is from `min` to `max`.
fn between(field: &str, value: i64, min: i64, max: i64) -> Result<i64, Violations> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        let mut v = Violations::new();
        v.add(field, format!("must be between {min} and {max}"));
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

/// One row of a product's stock. A product that sells fast keeps its units in several
/// slots so that concurrent orders hold from different rows instead of queueing on one; its
/// stock is the sum of its slots. Slot 0 always exists: units coming back go there, and a
/// hold that finds no slot with enough merges the free units into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub slot: i64,
    pub on_hand: i64,
    pub reserved: i64,
}

impl Slot {
    fn free(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// # Errors
/// When the number of slots is out of range.
pub fn slots(value: i64) -> Result<i64, Violations> {
    between("slots", value, 1, MAX_SLOTS)
}

/// A count of `on_hand` units spread over `slots` rows: each keeps what it has reserved
/// (slots past the new number give theirs to slot 0) and the free units are shared out as
/// evenly as they go. `Err` with what is reserved when the count is below it.
///
/// # Errors
/// The units reserved, when `on_hand` is fewer.
pub fn spread(current: &[Slot], on_hand: i64, slots: i64) -> Result<Vec<Slot>, i64> {
    let reserved: i64 = current.iter().map(|s| s.reserved).sum();
    if on_hand < reserved {
        return Err(reserved);
    }
    let mut spread: Vec<Slot> = (0..slots)
        .map(|slot| Slot {
            slot,
            on_hand: 0,
            reserved: 0,
        })
        .collect();
    for s in current {
        let to = if s.slot < slots { s.slot } else { 0 };
        spread[usize::try_from(to).unwrap_or(0)].reserved += s.reserved;
    }
    let free = on_hand - reserved;
    for s in &mut spread {
        let extra = i64::from(s.slot < free % slots);
        s.on_hand = s.reserved + free / slots + extra;
    }
    Ok(spread)
}

/// Where a hold of `quantity` is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// This slot has enough.
    Slot(i64),
    /// No slot has enough but all of them together do: their free units go to slot 0.
    Merge,
    /// Not enough in all the slots together.
    Short,
}

/// Picks a slot with enough free units, the `nth` (modulo) of those that have (callers pass
/// a random number, so that concurrent holds spread over the slots).
#[must_use]
pub fn take(slots: &[Slot], quantity: i64, nth: usize) -> Take {
    let enough: Vec<i64> = slots
        .iter()
        .filter(|s| s.free() >= quantity)
        .map(|s| s.slot)
        .collect();
    if !enough.is_empty() {
        return Take::Slot(enough[nth % enough.len()]);
    }
    if slots.iter().map(Slot::free).sum::<i64>() >= quantity {
        Take::Merge
    } else {
        Take::Short
    }
}

/// The slots with every free unit moved to slot 0; what each has reserved stays where its
/// reservations hold it.
#[must_use]
pub fn merge(slots: &[Slot]) -> Vec<Slot> {
    let free: i64 = slots.iter().filter(|s| s.slot != 0).map(Slot::free).sum();
    slots
        .iter()
        .map(|s| Slot {
            on_hand: if s.slot == 0 {
                s.on_hand + free
            } else {
                s.reserved
            },
            ..*s
        })
        .collect()
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
        assert!(slots(0).is_err());
        assert!(slots(MAX_SLOTS + 1).is_err());
        assert_eq!(slots(8).unwrap(), 8);
    }

    fn slot(slot: i64, on_hand: i64, reserved: i64) -> Slot {
        Slot {
            slot,
            on_hand,
            reserved,
        }
    }

    #[test]
    fn a_count_shares_the_free_units_out_and_keeps_what_is_reserved() {
        let current = [slot(0, 4, 1), slot(1, 3, 3), slot(2, 9, 2)];
        assert_eq!(
            spread(&current, 14, 3).unwrap(),
            [slot(0, 4, 1), slot(1, 6, 3), slot(2, 4, 2)]
        );
        // Fewer slots: the reserved units of the slots that go move to slot 0.
        assert_eq!(
            spread(&current, 14, 2).unwrap(),
            [slot(0, 7, 3), slot(1, 7, 3)]
        );
        assert_eq!(spread(&current, 5, 1), Err(6));
        assert_eq!(spread(&[], 3, 2).unwrap(), [slot(0, 2, 0), slot(1, 1, 0)]);
        let total: i64 = spread(&current, 1_000, 7)
            .unwrap()
            .iter()
            .map(|s| s.on_hand)
            .sum();
        assert_eq!(total, 1_000);
    }

    #[test]
    fn a_hold_takes_from_a_slot_with_enough_or_merges_or_is_short() {
        let slots = [slot(0, 2, 2), slot(1, 3, 0), slot(2, 5, 1)];
        assert_eq!(take(&slots, 3, 0), Take::Slot(1));
        assert_eq!(take(&slots, 3, 1), Take::Slot(2));
        assert_eq!(take(&slots, 4, 5), Take::Slot(2));
        assert_eq!(take(&slots, 5, 0), Take::Merge);
        assert_eq!(take(&slots, 8, 0), Take::Short);
        assert_eq!(merge(&slots), [slot(0, 9, 2), slot(1, 0, 0), slot(2, 1, 1)]);
    }
}
