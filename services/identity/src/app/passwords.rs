//! Password hashing with argon2id at OWASP's minimum (m = 19456 KiB, t = 2, p = 1), off the
//! async threads. Unknown accounts are checked against a dummy hash so that a login costs
//! the same whether or not the email exists.

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::SecureRandom;
use tokio::sync::OnceCell;

/// `(memory KiB, iterations, parallelism)`.
pub const PASSWORD_PARAMS: (u32, u32, u32) = (19_456, 2, 1);

pub(super) struct Passwords {
    dummy: OnceCell<String>,
}

fn argon2() -> Argon2<'static> {
    let (m, t, p) = PASSWORD_PARAMS;
    let params = Params::new(m, t, p, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let mut salt = [0_u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Passwords {
    pub(super) fn new() -> Self {
        Passwords {
            dummy: OnceCell::new(),
        }
    }

    pub(super) async fn hash(&self, password: String) -> anyhow::Result<String> {
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .context("hashing task")?
    }

    pub(super) async fn verify(&self, password: String, hash: String) -> anyhow::Result<bool> {
        tokio::task::spawn_blocking(move || verify_blocking(&password, &hash))
            .await
            .context("verification task")
    }

    /// Spends the same work as `verify` for an account that does not exist.
    pub(super) async fn verify_unknown(&self, password: String) -> anyhow::Result<()> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(|| hash_blocking("ordo-dummy-password"))
                    .await
                    .context("hashing task")?
            })
            .await?
            .clone();
        self.verify(password, dummy).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_verify() {
        let hash = hash_blocking("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_blocking("correct horse battery", &hash));
        assert!(!verify_blocking("wrong horse battery", &hash));
        assert!(!verify_blocking("anything", "not a hash"));
    }
}
