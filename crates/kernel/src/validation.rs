//! Field-level validation results, produced by domain rules and turned into 422 problem
//! documents at the HTTP edge, and the shared checks of text fields: every text a client
//! sends goes through [`text`], [`free_text`] or [`verbatim`], or through a parser of a
//! closed alphabet, so that no control character reaches storage, logs or other people.

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

    /// Records the violations of a part checked on its own (an order's address), passing
    /// its value through.
    pub fn absorb<T>(&mut self, result: Result<T, Violations>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(violations) => {
                self.0.extend(violations.0);
                None
            }
        }
    }

    /// The same violations, each field named within `parent` (`line1` becomes
    /// `address.line1`).
    #[must_use]
    pub fn within(self, parent: &str) -> Violations {
        Violations(
            self.0
                .into_iter()
                .map(|v| Violation {
                    field: format!("{parent}.{}", v.field),
                    message: v.message,
                })
                .collect(),
        )
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

/// Trims `text` and checks its length in characters: one line of text such as a name, a
/// city or a reason, with no control character at all. NUL is refused by PostgreSQL in
/// text, and ESC, BEL and the like act on the terminals and logs that show the text later.
///
/// # Errors
/// A message saying the bounds, or that control characters are not allowed.
pub fn text(text: &str, min: usize, max: usize) -> Result<String, String> {
    let trimmed = text.trim();
    bounded(trimmed, min, max)?;
    verbatim(trimmed).map(str::to_owned)
}

/// Like [`text`], for long free text written for people to read (a product's description,
/// an order's notes): line breaks and tabs are kept as typed, `\r\n` becomes `\n`; every
/// other control character is refused, for the same reasons as in [`text`].
///
/// # Errors
/// A message saying the bounds, or that control characters are not allowed.
pub fn free_text(text: &str, min: usize, max: usize) -> Result<String, String> {
    let normalised = text.trim().replace("\r\n", "\n");
    bounded(&normalised, min, max)?;
    if normalised
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(
            "must not contain control characters other than line breaks and tabs".to_owned(),
        );
    }
    Ok(normalised)
}

/// Checks a value used exactly as sent (a password, a token, a name to look up): neither
/// trimmed nor bounded here, but it holds no control character either.
///
/// Values of a closed alphabet (email addresses, phone numbers, codes, card numbers,
/// enumerations) need none of these: their own parsers admit no control character.
///
/// # Errors
/// A message saying that control characters are not allowed.
pub fn verbatim(text: &str) -> Result<&str, String> {
    if text.chars().any(char::is_control) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(text)
    }
}

fn bounded(text: &str, min: usize, max: usize) -> Result<(), String> {
    let length = text.chars().count();
    if length < min {
        Err(if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("must be at least {min} characters")
        })
    } else if length > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(())
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
    fn control_characters_are_refused_but_free_text_keeps_its_lines() {
        for bad in ["a\u{0}b", "a\u{1b}[2Jb", "a\u{7}b", "a\nb", "a\tb"] {
            assert!(text(bad, 1, 50).is_err(), "{bad:?}");
            assert!(verbatim(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            free_text(" ring twice\r\n\tthird floor ", 1, 50),
            Ok("ring twice\n\tthird floor".to_owned())
        );
        for bad in ["a\u{0}b", "a\u{1b}b", "a\u{7}b", "a\rb", "a\u{85}b"] {
            assert!(free_text(bad, 1, 50).is_err(), "{bad:?}");
        }
        assert_eq!(verbatim(" kept as sent "), Ok(" kept as sent "));
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
