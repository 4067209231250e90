//! The access-token signing keys: Ed25519, generated on first start and kept in a file
//! under the data dir (mode 0600). Rotation adds a new signing key and keeps the previous
//! ones published — and so verifiable — until every token they signed has expired.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ordo_http::auth::PublicJwk;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("cannot read or write the key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {path} is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot generate a key")]
    Generate,
    #[error("cannot sign a token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    /// PKCS#8 document, standard base64.
    private_pkcs8: String,
    /// Raw public key, base64url.
    public: String,
    created_at: i64,
    retired_at: Option<i64>,
}

struct State {
    kid: String,
    signing: EncodingKey,
    jwks: Vec<PublicJwk>,
    modified: Option<SystemTime>,
}

pub struct Keyring {
    path: PathBuf,
    retain: Duration,
    state: RwLock<State>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Loads the key file, creating it with a first key when absent. Retired keys stay
    /// published for `retain` (the access-token lifetime plus leeway).
    ///
    /// # Errors
    /// When the file cannot be read, written or parsed.
    pub fn open(path: &Path, retain: Duration) -> Result<Keyring, KeyringError> {
        if !path.exists() {
            let file = KeyFile {
                keys: vec![generate()?],
            };
            if create(path, &file)? {
                tracing::info!(path = %path.display(), "generated the first token-signing key");
            }
        }
        let state = load(path, retain)?;
        Ok(Keyring {
            path: path.to_owned(),
            retain,
            state: RwLock::new(state),
        })
    }

    /// Starts signing with a new key; the old one stays verifiable for `retain`, and keys
    /// retired longer ago are dropped. Returns the new key's id.
    ///
    /// # Errors
    /// When the file cannot be read, written or parsed.
    pub fn rotate(path: &Path, retain: Duration) -> Result<String, KeyringError> {
        let mut file = read(path)?;
        let now = now_millis();
        let keep_after = now - i64::try_from(retain.as_millis()).unwrap_or(i64::MAX);
        for key in &mut file.keys {
            key.retired_at.get_or_insert(now);
        }
        file.keys
            .retain(|key| key.retired_at.is_none_or(|at| at > keep_after));
        let fresh = generate()?;
        let kid = fresh.kid.clone();
        file.keys.push(fresh);
        write(path, &file)?;
        Ok(kid)
    }

    /// Picks up a rotation done by another process (`ordo keys rotate`).
    ///
    /// # Errors
    /// When the changed file cannot be read or parsed; the current keys stay in use.
    pub fn reload_if_changed(&self) -> Result<bool, KeyringError> {
        let modified = modified(&self.path);
        if modified == self.read_state().modified {
            return Ok(false);
        }
        let state = load(&self.path, self.retain)?;
        *self
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = state;
        Ok(true)
    }

    /// The public keys to publish: the signing key and the still-valid retired ones.
    #[must_use]
    pub fn jwks(&self) -> Vec<PublicJwk> {
        self.read_state().jwks.clone()
    }

    /// The id of the key that signs new tokens.
    #[must_use]
    pub fn current_kid(&self) -> String {
        self.read_state().kid.clone()
    }

    /// Signs token claims (an access token's, a service token's) with the current key
    /// (`kid` in the header).
    ///
    /// # Errors
    /// When signing fails, which only a corrupt key can cause.
    pub fn sign(&self, claims: &impl serde::Serialize) -> Result<String, KeyringError> {
        let state = self.read_state();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(state.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &state.signing)?)
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Every process of a platform signs the tokens it presents to other services with it.
impl ordo_http::service_auth::ServiceSigner for Keyring {
    fn sign_service(
        &self,
        claims: &ordo_http::service_auth::ServiceClaims,
    ) -> Result<String, String> {
        self.sign(claims).map_err(|error| error.to_string())
    }
}

fn now_millis() -> i64 {
    ordo_kernel::time::to_millis(ordo_kernel::time::now())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn generate() -> Result<StoredKey, KeyringError> {
    let document =
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyringError::Generate)?;
    let pair = Ed25519KeyPair::from_pkcs8(document.as_ref()).map_err(|_| KeyringError::Generate)?;
    let public = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    Ok(StoredKey {
        kid: thumbprint(&public),
        private_pkcs8: STANDARD.encode(document.as_ref()),
        public,
        created_at: now_millis(),
        retired_at: None,
    })
}

/// The RFC 7638 thumbprint of an Ed25519 public key: a stable, collision-free key id.
fn thumbprint(public: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{public}"}}"#);
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        canonical.as_bytes(),
    ))
}

fn read(path: &Path) -> Result<KeyFile, KeyringError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyringError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| KeyringError::Invalid {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn load(path: &Path, retain: Duration) -> Result<State, KeyringError> {
    let modified = modified(path);
    let file = read(path)?;
    let invalid = |reason: &str| KeyringError::Invalid {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let current = file
        .keys
        .iter()
        .filter(|key| key.retired_at.is_none())
        .max_by_key(|key| key.created_at)
        .ok_or_else(|| invalid("no current (unretired) key"))?;
    let der = STANDARD
        .decode(&current.private_pkcs8)
        .map_err(|_| invalid("a private key is not base64"))?;
    Ed25519KeyPair::from_pkcs8(&der).map_err(|_| invalid("a private key is not Ed25519 PKCS#8"))?;
    let keep_after = now_millis() - i64::try_from(retain.as_millis()).unwrap_or(i64::MAX);
    let jwks = file
        .keys
        .iter()
        .filter(|key| key.retired_at.is_none_or(|at| at > keep_after))
        .map(|key| PublicJwk::ed25519(key.kid.clone(), key.public.clone()))
        .collect();
    Ok(State {
        kid: current.kid.clone(),
        signing: EncodingKey::from_ed_der(&der),
        jwks,
        modified,
    })
}

/// Writes the file atomically (temporary file, then rename), readable by the owner only.
fn write(path: &Path, file: &KeyFile) -> Result<(), KeyringError> {
    let temporary = write_temporary(path, file)?;
    std::fs::rename(&temporary, path).map_err(|source| KeyringError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes the file unless it exists, atomically: of processes sharing the file that start
/// together (containers on one volume), the first one's keys are everyone's, where a rename
/// would let each replace the last and sign with keys the others never read. False when
/// another process made the file first.
fn create(path: &Path, file: &KeyFile) -> Result<bool, KeyringError> {
    let temporary = write_temporary(path, file)?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(KeyringError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The file's content in a new temporary file beside it, synced.
fn write_temporary(path: &Path, file: &KeyFile) -> Result<std::path::PathBuf, KeyringError> {
    let io = |source| KeyringError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let temporary = path.with_extension(format!("tmp-{}", ordo_kernel::new_id().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&temporary).map_err(io)?;
    let text = serde_json::to_vec_pretty(file).map_err(|e| io(std::io::Error::other(e)))?;
    out.write_all(&text).map_err(io)?;
    out.sync_all().map_err(io)?;
    Ok(temporary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordo_http::Verifier;
    use ordo_http::auth::AccessClaims;
    use ordo_kernel::Role;

    fn claims() -> AccessClaims {
        let now = ordo_kernel::time::now().unix_timestamp();
        AccessClaims {
            iss: "ordo".into(),
            aud: "ordo-api".into(),
            sub: ordo_kernel::new_id(),
            exp: now + 60,
            nbf: now,
            iat: now,
            role: Role::Customer,
            typ: "access".into(),
        }
    }

    #[test]
    fn processes_starting_together_share_the_first_ones_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/jwt.json");
        let opened: Vec<Keyring> = std::thread::scope(|scope| {
            let starting: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| Keyring::open(&path, Duration::from_secs(960)).unwrap()))
                .collect();
            starting.into_iter().map(|s| s.join().unwrap()).collect()
        });
        let kid = opened[0].read_state().kid.clone();
        assert!(opened.iter().all(|keyring| keyring.read_state().kid == kid));
        let leftovers = std::fs::read_dir(dir.path().join("keys")).unwrap().count();
        assert_eq!(leftovers, 1, "only the key file remains");
    }

    #[test]
    fn rotation_keeps_old_tokens_verifiable_and_signs_with_the_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/jwt.json");
        let keyring = Keyring::open(&path, Duration::from_secs(960)).unwrap();
        let verifier = Verifier::new("ordo", "ordo-api");
        verifier.replace_keys(&keyring.jwks());
        let old_token = keyring.sign(&claims()).unwrap();
        let old_kid = keyring.current_kid();

        let new_kid = Keyring::rotate(&path, Duration::from_secs(960)).unwrap();
        assert_ne!(new_kid, old_kid);
        // mtime granularity can hide a change made within the same instant; force a reload.
        let keyring = Keyring::open(&path, Duration::from_secs(960)).unwrap();
        assert_eq!(keyring.current_kid(), new_kid);
        assert_eq!(keyring.jwks().len(), 2);
        verifier.replace_keys(&keyring.jwks());
        assert!(verifier.verify(&old_token).is_ok(), "old tokens stay valid");
        assert!(verifier.verify(&keyring.sign(&claims()).unwrap()).is_ok());
    }

    #[test]
    fn a_remembered_token_fails_once_its_key_is_no_longer_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt.json");
        let keyring = Keyring::open(&path, Duration::ZERO).unwrap();
        let verifier = Verifier::new("ordo", "ordo-api");
        verifier.replace_keys(&keyring.jwks());
        let token = keyring.sign(&claims()).unwrap();
        assert!(verifier.verify(&token).is_ok());
        assert!(verifier.verify(&token).is_ok(), "remembered");
        Keyring::rotate(&path, Duration::ZERO).unwrap();
        let rotated = Keyring::open(&path, Duration::ZERO).unwrap();
        verifier.replace_keys(&rotated.jwks());
        assert!(verifier.verify(&token).is_err(), "its key is gone");
        let mut expired = claims();
        expired.exp -= 3600;
        assert!(verifier.verify(&rotated.sign(&expired).unwrap()).is_err());
    }

    #[test]
    fn keys_retired_past_the_retention_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt.json");
        Keyring::open(&path, Duration::ZERO).unwrap();
        Keyring::rotate(&path, Duration::ZERO).unwrap();
        let keyring = Keyring::open(&path, Duration::ZERO).unwrap();
        assert_eq!(keyring.jwks().len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
