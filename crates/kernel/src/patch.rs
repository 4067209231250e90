//! Partial updates (`PATCH`): a field left out keeps its value, `null` clears an optional
//! one, and the change is merged over the current fields before the whole is validated, so
//! that a change is judged by the value it makes (a product's new price with its old
//! currency), and nothing is kept when any field breaks a rule.

use crate::validation::Violations;
use serde::{Deserialize, Deserializer};

/// A value that clients change in part.
pub trait Editable {
    /// The fields as a client sends them.
    type Draft;
    /// The fields once validated: what is kept.
    type Valid;

    /// The current fields, as a draft to merge a change over.
    fn draft(&self) -> Self::Draft;
    /// # Errors
    /// Every field that breaks a rule.
    fn validate(draft: Self::Draft) -> Result<Self::Valid, Violations>;
    /// Keeps validated fields.
    fn keep(&mut self, valid: Self::Valid);
}

/// A change of some fields of a `D`.
pub trait Patch<D> {
    /// `current` with this change's fields in place of its own.
    fn merged(self, current: D) -> D;
}

/// Merges `change` over `value`'s fields and keeps them when the whole is valid.
///
/// # Errors
/// Every field that breaks a rule; `value` is then unchanged.
pub fn apply<E: Editable>(value: &mut E, change: impl Patch<E::Draft>) -> Result<(), Violations> {
    let valid = E::validate(change.merged(value.draft()))?;
    value.keep(valid);
    Ok(())
}

/// For `Option<Option<T>>` fields: absent is `None`, `null` is `Some(None)` (clear the
/// value), anything else is `Some(Some(value))`. Use with `#[serde(default)]`.
///
/// # Errors
/// When the value is neither null nor a `T`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
