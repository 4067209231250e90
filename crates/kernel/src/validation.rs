//! Field-level validation results, produced by domain rules and turned into 422 problem
//! documents at the HTTP edge.

use std::fmt;

/// One rule a field breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub message: String,
}

/// All the rules a request breaks; collected so that a client learns every problem at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    #[must_use]
    pub fn new() -> Self {
        Violations(Vec::new())
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records the error of `result` under `field`, passing its value through.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was violated.
    ///
    /// # Errors
    /// The violations, when there are any.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Violations> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    #[must_use]
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }
}

impl From<Violation> for Violations {
    fn from(violation: Violation) -> Self {
        Violations(vec![violation])
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self
            .0
            .iter()
            .map(|v| format!("{}: {}", v.field, v.message))
            .collect();
        f.write_str(&fields.join("; "))
    }
}

/// Trims `text` and checks its length in characters.
///
/// # Errors
/// A message saying the bounds.
pub fn text(text: &str, min: usize, max: usize) -> Result<String, String> {
    let trimmed = text.trim();
    let length = trimmed.chars().count();
    if length < min {
        Err(if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must be at least {min} characters")
        })
    } else if length > max {
        Err(format!("must be at most {max} characters"))
    } else if trimmed.chars().any(char::is_control) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(trimmed.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("  Ada ", 1, 5), Ok("Ada".to_owned()));
        assert!(text("   ", 1, 5).is_err());
        assert!(text("abcdef", 1, 5).is_err());
        assert!(text("a\u{0}b", 1, 5).is_err());
    }

    #[test]
    fn violations_collect_every_field() {
        let mut v = Violations::new();
        assert_eq!(v.check("a", Ok::<_, String>(1)), Some(1));
        v.check::<(), _>("b", Err("bad"));
        v.add("c", "worse");
        assert_eq!(v.to_string(), "b: bad; c: worse");
        assert!(v.into_result(|| ()).is_err());
    }
}
