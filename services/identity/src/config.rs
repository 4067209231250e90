//! Identity's section of the configuration (`[identity]`).

use ordo_http::ratelimit::Quota;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// `iss` of the access tokens, checked by the gateway.
    pub issuer: String,
    /// `aud` of the access tokens, checked by the gateway.
    pub audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    /// The signing keys; by default `keys/jwt-keys.json` under the data dir.
    pub keys_file: Option<PathBuf>,
    /// Login attempts per email address from one client IP. Failures past its burst also
    /// make that pair wait, doubling from a second up to fifteen minutes, until it logs in.
    pub login_per_account_and_ip: Quota,
    /// Login attempts per email address from all clients together: a ceiling above the
    /// pair's, so that one address cannot lock the account's owner out.
    pub login_per_account: Quota,
    /// Login attempts per client IP, whatever the account.
    pub login_per_ip: Quota,
    /// Password-reset requests per email address, whoever asks: how many links one
    /// address can be sent.
    pub reset_per_account: Quota,
    /// Password-reset requests per client IP, whatever the address.
    pub reset_per_ip: Quota,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            issuer: "ordo".into(),
            audience: "ordo-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            keys_file: None,
            login_per_account_and_ip: Quota::new(10, 5),
            login_per_account: Quota::new(30, 15),
            login_per_ip: Quota::new(60, 20),
            reset_per_account: Quota::new(1, 3),
            reset_per_ip: Quota::new(10, 10),
        }
    }
}

impl IdentityConfig {
    /// # Errors
    /// The first invalid key and why, e.g. `identity.access_token_ttl_secs: …`.
    pub fn validate(&self) -> Result<(), String> {
        if self.issuer.trim().is_empty() {
            return Err("identity.issuer: must not be empty".into());
        }
        if self.audience.trim().is_empty() {
            return Err("identity.audience: must not be empty".into());
        }
        if !(60..=3600).contains(&self.access_token_ttl_secs) {
            return Err("identity.access_token_ttl_secs: must be between 60 and 3600".into());
        }
        if self.refresh_token_ttl_secs < self.access_token_ttl_secs {
            return Err(
                "identity.refresh_token_ttl_secs: must not be shorter than the access token's"
                    .into(),
            );
        }
        self.login_per_account_and_ip
            .validate()
            .map_err(|e| format!("identity.login_per_account_and_ip: {e}"))?;
        self.login_per_account
            .validate()
            .map_err(|e| format!("identity.login_per_account: {e}"))?;
        // One address spending its whole pair quota must leave the account some of its own.
        let (pair, account) = (self.login_per_account_and_ip, self.login_per_account);
        if pair.per_minute > account.per_minute || pair.burst >= account.burst {
            return Err(
                "identity.login_per_account: must be above login_per_account_and_ip (burst higher, per_minute at least as high)"
                    .into(),
            );
        }
        self.login_per_ip
            .validate()
            .map_err(|e| format!("identity.login_per_ip: {e}"))?;
        self.reset_per_account
            .validate()
            .map_err(|e| format!("identity.reset_per_account: {e}"))?;
        self.reset_per_ip
            .validate()
            .map_err(|e| format!("identity.reset_per_ip: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_ceiling_must_be_above_the_pair_quota() {
        IdentityConfig::default().validate().unwrap();
        for account in [Quota::new(30, 5), Quota::new(5, 15)] {
            let config = IdentityConfig {
                login_per_account_and_ip: Quota::new(10, 5),
                login_per_account: account,
                ..IdentityConfig::default()
            };
            let error = config.validate().unwrap_err();
            assert!(error.contains("identity.login_per_account"), "{error}");
        }
    }
}
