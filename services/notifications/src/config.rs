//! How text messages leave (`[sms]`): recorded by the sandbox, or posted to an HTTP gateway.

use ordo_kernel::Secret;
use serde::{Deserialize, Serialize};

/// Which provider sends text messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProviderKind {
    /// Sends nothing: each message is recorded for operators to read (`GET /admin/sms`).
    Sandbox,
    /// Posts each message, signed, to `sms.url`.
    Http,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub provider: SmsProviderKind,
    /// The gateway the `http` provider posts to: `http://host[:port]/path`.
    pub url: Option<String>,
    /// What the `http` provider signs its requests with (HMAC-SHA256), shared with the
    /// gateway.
    pub secret: Option<Secret<String>>,
    /// The sender the messages show (a name of up to 11 letters and digits, or a number).
    pub sender: String,
    /// How long the gateway has to answer, in seconds.
    pub timeout_secs: u64,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: SmsProviderKind::Sandbox,
            url: None,
            secret: None,
            sender: "Ordo".into(),
            timeout_secs: 10,
        }
    }
}

impl SmsConfig {
    /// # Errors
    /// The first invalid key and why.
    pub fn validate(&self) -> Result<(), String> {
        let sender = &self.sender;
        let alphanumeric = (1..=11).contains(&sender.len())
            && sender
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ');
        let number = sender.strip_prefix('+').is_some_and(|digits| {
            (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
        if !(alphanumeric || number) {
            return Err(
                "sms.sender: must be up to 11 letters, digits and spaces, or a number like +4915112345678"
                    .into(),
            );
        }
        if !(1..=120).contains(&self.timeout_secs) {
            return Err("sms.timeout_secs: must be between 1 and 120".into());
        }
        if self.provider == SmsProviderKind::Http {
            // Plain HTTP, to a gateway on the same host or network, as SMTP goes to a relay.
            if !self
                .url
                .as_deref()
                .is_some_and(|url| url.starts_with("http://"))
            {
                return Err("sms.url: the http provider needs an http:// URL".into());
            }
            if self
                .secret
                .as_ref()
                .is_none_or(|secret| secret.expose().len() < 16)
            {
                return Err(
                    "sms.secret: the http provider needs a secret of at least 16 characters".into(),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_needs_nothing_and_http_needs_a_url_and_a_secret() {
        SmsConfig::default().validate().unwrap();
        let http = SmsConfig {
            provider: SmsProviderKind::Http,
            ..SmsConfig::default()
        };
        assert!(http.validate().unwrap_err().starts_with("sms.url"));
        let with_url = SmsConfig {
            url: Some("http://127.0.0.1:9000/sms".into()),
            ..http
        };
        assert!(with_url.validate().unwrap_err().starts_with("sms.secret"));
        let signed = SmsConfig {
            secret: Some(Secret::new("sixteen chars ok".into())),
            ..with_url
        };
        signed.validate().unwrap();
        for sender in ["", "Twelve chars", "Ordo!", "+12"] {
            let bad = SmsConfig {
                sender: sender.into(),
                ..SmsConfig::default()
            };
            assert!(
                bad.validate().unwrap_err().starts_with("sms.sender"),
                "{sender}"
            );
        }
    }
}
