use ordo_kernel::validation::{text, verbatim};
use ordo_kernel::{Role, Violations};
use time::OffsetDateTime;
use uuid::Uuid;

pub const PASSWORD_MIN_CHARS: usize = 10;
/// Long enough for any passphrase, short enough that hashing cannot be used to burn CPU.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// A normalised (trimmed, lowercased) email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// # Errors
    /// A message for clients when the address is not plausible.
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            })
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(Email(email))
        } else {
            Err("must be an email address")
        }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy; never logged (`Debug` hides it).
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    /// # Errors
    /// A message for clients when the policy is not met.
    pub fn parse(raw: &str) -> Result<Password, String> {
        if raw.chars().count() < PASSWORD_MIN_CHARS {
            Err(format!("must be at least {PASSWORD_MIN_CHARS} characters"))
        } else if raw.len() > PASSWORD_MAX_BYTES {
            Err(format!("must be at most {PASSWORD_MAX_BYTES} bytes"))
        } else {
            verbatim(raw).map(|raw| Password(raw.to_owned()))
        }
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn name(raw: &str) -> Result<String, String> {
    text(raw, 1, 100)
}

/// A phone number in E.164: `+`, a country code that does not start with 0, and at most 15
/// digits in all (at least 7, the shortest numbers in use), nothing between them — the form
/// text-message providers take.
fn phone(raw: &str) -> Result<String, &'static str> {
    let trimmed = raw.trim();
    let e164 = trimmed.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    });
    if e164 {
        Ok(trimmed.to_owned())
    } else {
        Err("must be a phone number in international form (E.164), e.g. +4915112345678")
    }
}

/// A validated sign-up.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub name: String,
    pub role: Role,
}

impl Registration {
    /// Validates every field at once. Admin is never self-assigned.
    ///
    /// # Errors
    /// Every field that breaks a rule.
    pub fn parse(
        email: &str,
        password: &str,
        full_name: &str,
        role: Option<Role>,
    ) -> Result<Registration, Violations> {
        let mut violations = Violations::new();
        let email = violations.check("email", Email::parse(email));
        let password = violations.check("password", Password::parse(password));
        let full_name = violations.check("name", name(full_name));
        let role = role.unwrap_or(Role::Customer);
        if role == Role::Admin {
            violations.add("role", "must be customer, merchant or courier");
        }
        match (email, password, full_name) {
            (Some(email), Some(password), Some(name)) if violations.is_empty() => {
                Ok(Registration {
                    email,
                    password,
                    name,
                    role,
                })
            }
            _ => Err(violations),
        }
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub email_verified: bool,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A change to one's own profile: only these fields are the user's to change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChange {
    pub name: Option<String>,
    /// `Some(None)` clears the phone number.
    pub phone: Option<Option<String>>,
}

impl ProfileChange {
    /// # Errors
    /// Every field that breaks a rule.
    pub fn parse(
        full_name: Option<&str>,
        phone_number: Option<Option<&str>>,
    ) -> Result<ProfileChange, Violations> {
        let mut violations = Violations::new();
        let change = ProfileChange {
            name: full_name.and_then(|n| violations.check("name", name(n))),
            phone: phone_number.map(|p| p.and_then(|p| violations.check("phone", phone(p)))),
        };
        violations.into_result(|| change)
    }

    /// Applies the change to `user`.
    pub fn apply_to(self, user: &mut User) {
        if let Some(name) = self.name {
            user.name = name;
        }
        if let Some(phone) = self.phone {
            user.phone = phone;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.ORG ").unwrap().as_str(),
            "ada@example.org"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
            "a@b@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("ten chars!").is_ok());
        assert!(Password::parse(&"x".repeat(PASSWORD_MAX_BYTES + 1)).is_err());
        assert!(Password::parse("ten chars!\u{0}").is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-secret").unwrap()),
            "Password([redacted])"
        );
    }

    #[test]
    fn registration_reports_every_field_and_refuses_admin() {
        let violations = Registration::parse("nope", "short", " ", Some(Role::Admin)).unwrap_err();
        let fields: Vec<String> = violations.into_vec().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["email", "password", "name", "role"]);

        let ok = Registration::parse("a@b.co", "long enough!", "Ada", None).unwrap();
        assert_eq!(ok.role, Role::Customer);
        let courier =
            Registration::parse("c@b.co", "long enough!", "Cy", Some(Role::Courier)).unwrap();
        assert_eq!(courier.role, Role::Courier);
    }

    #[test]
    fn phone_numbers_are_e164() {
        for good in ["+4915112345678", " +14155552671 ", "+3312345"] {
            assert_eq!(phone(good).as_deref(), Ok(good.trim()), "{good}");
        }
        for bad in [
            "",
            "+",
            "4915112345678",
            "+49 151 12345678",
            "+49-151-12345678",
            "+04915112345678",
            "+123456",
            "+1234567890123456",
            "+49151123456x8",
            "00 49 151 12345678",
        ] {
            assert!(phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn profile_change_validates_and_clears_phone() {
        assert!(ProfileChange::parse(Some(""), None).is_err());
        assert!(ProfileChange::parse(None, Some(Some("call me"))).is_err());
        let clear = ProfileChange::parse(None, Some(None)).unwrap();
        assert_eq!(clear.phone, Some(None));
    }
}
