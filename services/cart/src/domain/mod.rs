//! The cart's rules. No I/O.

use ordo_kernel::Violations;

pub const MAX_QUANTITY: i64 = 1000;
pub const MAX_LINES: i64 = 100;

/// # Errors
/// When the quantity is out of range.
pub fn quantity(value: i64) -> Result<i64, Violations> {
    if (1..=MAX_QUANTITY).contains(&value) {
        Ok(value)
    } else {
        let mut v = Violations::new();
        v.add("quantity", format!("must be between 1 and {MAX_QUANTITY}"));
        Err(v)
    }
}
