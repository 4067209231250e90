//! `ordo backup` and `ordo restore` of the embedded platform: every service's SQLite
//! database copied at one moment while the platform serves, the signing keys sealed with a
//! passphrase, and a manifest of checksums written last; a restore checks all of it before
//! it writes anything, into an empty data dir.
//!
//! One moment for every database: the backup takes each database's write lock
//! (`BEGIN IMMEDIATE`), so that no service commits while the copies are made, then copies
//! each with `VACUUM INTO` (a consistent, compacted copy that SQLite makes from a read
//! transaction) and lets go. Services' writes wait meanwhile, within their busy timeout; an
//! order is in the copy of orders exactly when its stock hold is in the copy of inventory.
//! The search index is not copied: search builds it again from its database at the first
//! start.

use crate::config::Config;
use anyhow::{Context, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The environment variable that holds the passphrase sealing the signing keys.
pub const PASSPHRASE_VAR: &str = "ORDO_BACKUP_PASSPHRASE";
const MIN_PASSPHRASE: usize = 12;
const MANIFEST: &str = "manifest.json";
const KEYS: &str = "signing-keys.sealed";
/// The layout of a backup; a restore refuses one it does not know.
const FORMAT: u32 = 1;
/// How long taking a database's write lock may wait for a transaction under way.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Argon2id, at OWASP's parameters: turning a passphrase into the sealing key.
const KDF_MEMORY_KIB: u32 = 19_456;
const KDF_ITERATIONS: u32 = 2;
const KDF_LANES: u32 = 1;

/// What a backup holds, written last: a directory without it is not a backup.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    /// The version of Ordo that made it.
    ordo: String,
    /// When the databases were copied (RFC 3339).
    taken_at: String,
    /// How long services' writes waited for the copies.
    writes_paused_ms: u64,
    databases: Vec<Part>,
    keys: Part,
}

/// One file of a backup, with what it must be.
#[derive(Debug, Serialize, Deserialize)]
struct Part {
    file: String,
    bytes: u64,
    sha256: String,
}

/// The signing keys, sealed with AES-256-GCM under a key derived from the passphrase.
#[derive(Debug, Serialize, Deserialize)]
struct Sealed {
    kdf: String,
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// Copies the embedded platform under `config.data_dir` into `to`, which must be new or
/// empty.
///
/// # Errors
/// On PostgreSQL, without a passphrase, with nothing to back up, with `to` not empty, or
/// when a database cannot be locked or copied in time.
pub async fn backup(config: &Config, to: &Path) -> anyhow::Result<()> {
    embedded_only(config, "backup")?;
    let passphrase = passphrase()?;
    let databases = databases(&config.data_dir)?;
    ensure!(
        !databases.is_empty(),
        "no databases in {}: nothing to back up (is --data-dir the platform's?)",
        config.data_dir.display()
    );
    ensure_empty(to, "a backup goes into a new or empty directory")?;
    std::fs::create_dir_all(to).with_context(|| format!("create {}", to.display()))?;

    let taken_at = ordo_kernel::time::now();
    let paused = copy_at_one_moment(&databases, to).await?;
    let mut parts = Vec::with_capacity(databases.len());
    for (name, _) in &databases {
        parts.push(part(to, name)?);
    }
    let keys_file = config.keys_file();
    let keys = std::fs::read(&keys_file)
        .with_context(|| format!("read the signing keys in {}", keys_file.display()))?;
    write_synced(
        &to.join(KEYS),
        &serde_json::to_vec_pretty(&seal(&keys, &passphrase)?)?,
    )?;
    let manifest = Manifest {
        format: FORMAT,
        ordo: env!("CARGO_PKG_VERSION").to_owned(),
        taken_at: taken_at.format(&time::format_description::well_known::Rfc3339)?,
        writes_paused_ms: u64::try_from(paused.as_millis()).unwrap_or(u64::MAX),
        databases: parts,
        keys: part(to, KEYS)?,
    };
    // Written under another name and renamed: a backup cut short has no manifest.
    let unfinished = to.join(format!("{MANIFEST}.unfinished"));
    write_synced(&unfinished, &serde_json::to_vec_pretty(&manifest)?)?;
    std::fs::rename(&unfinished, to.join(MANIFEST))?;
    sync_dir(to)?;
    let bytes: u64 = manifest.databases.iter().map(|p| p.bytes).sum();
    println!(
        "backed up {} databases ({:.1} MB) and the signing keys to {}; writes paused {} ms",
        manifest.databases.len(),
        bytes as f64 / 1e6,
        to.display(),
        manifest.writes_paused_ms
    );
    Ok(())
}

/// Restores the backup in `from` into `config.data_dir`, which must be new or empty, after
/// checking every file against the manifest, every database's integrity, and the passphrase.
///
/// # Errors
/// On PostgreSQL, without a passphrase, for a backup that is partial, damaged, of an
/// unknown format or sealed with another passphrase, or a data dir that is not empty;
/// nothing is written then.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    embedded_only(config, "restore")?;
    let passphrase = passphrase()?;
    let text = match std::fs::read(from.join(MANIFEST)) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => bail!(
            "{} is not a complete backup: it has no {MANIFEST} (the backup did not finish, \
             or this is not a backup)",
            from.display()
        ),
        Err(error) => return Err(error).context(format!("read {}", from.display())),
    };
    let manifest: Manifest = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{} is damaged: its {MANIFEST} cannot be read",
            from.display()
        )
    })?;
    ensure!(
        manifest.format == FORMAT,
        "the backup's format {} is not this Ordo's ({FORMAT}): it was made by Ordo {}",
        manifest.format,
        manifest.ordo
    );
    for part in manifest.databases.iter().chain([&manifest.keys]) {
        check(from, part)?;
    }
    let sealed: Sealed = serde_json::from_slice(&std::fs::read(from.join(KEYS))?)
        .context("the sealed signing keys cannot be read")?;
    let keys = open(&sealed, &passphrase)?;
    for part in &manifest.databases {
        check_integrity(&from.join(&part.file)).await?;
    }
    let keys_file = config.keys_file();
    ensure_empty(&config.data_dir, "restore into an empty data dir")?;
    ensure!(
        !keys_file.exists(),
        "{} exists: restore would replace signing keys",
        keys_file.display()
    );

    // The keys first: a keys file that cannot be written (a read-only mount) stops the
    // restore before any database is in place, not after.
    if let Some(parent) = keys_file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_synced(&keys_file, &keys)?;
    restrict(&keys_file)?;
    std::fs::create_dir_all(&config.data_dir)?;
    for part in &manifest.databases {
        let restoring = config.data_dir.join(format!("{}.restoring", part.file));
        std::fs::copy(from.join(&part.file), &restoring)?;
        std::fs::File::open(&restoring)?.sync_all()?;
        std::fs::rename(&restoring, config.data_dir.join(&part.file))?;
    }
    sync_dir(&config.data_dir)?;
    println!(
        "restored {} databases and the signing keys, taken {}, into {}; search builds its \
         index again at the first start",
        manifest.databases.len(),
        manifest.taken_at,
        config.data_dir.display()
    );
    Ok(())
}

fn embedded_only(config: &Config, what: &str) -> anyhow::Result<()> {
    ensure!(
        config.database_url.is_none(),
        "ordo {what} is for the embedded platform's SQLite databases; on PostgreSQL use \
         pgBackRest (docs/RUNBOOK.md, \"Back up and restore\")"
    );
    Ok(())
}

fn passphrase() -> anyhow::Result<String> {
    let passphrase = std::env::var(PASSPHRASE_VAR).unwrap_or_default();
    ensure!(
        passphrase.chars().count() >= MIN_PASSPHRASE,
        "set {PASSPHRASE_VAR} (at least {MIN_PASSPHRASE} characters): it seals the signing \
         keys in the backup"
    );
    Ok(passphrase)
}

/// Every service's database under `dir` (`NAME.db`), by name.
fn databases(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).context(format!("read {}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "db") && path.is_file() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .context("a database file's name is not UTF-8")?
                .to_owned();
            found.push((name, path));
        }
    }
    found.sort();
    Ok(found)
}

fn ensure_empty(dir: &Path, why: &str) -> anyhow::Result<()> {
    let occupied = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
        Err(error) => return Err(error).context(format!("read {}", dir.display())),
    };
    ensure!(!occupied, "{} is not empty: {why}", dir.display());
    Ok(())
}

/// Locks every database against writes, copies each, and lets go; how long writes waited.
/// On a blocking thread: SQLite's calls wait for locks and the disk.
async fn copy_at_one_moment(
    databases: &[(String, PathBuf)],
    to: &Path,
) -> anyhow::Result<Duration> {
    let (databases, to) = (databases.to_vec(), to.to_owned());
    tokio::task::spawn_blocking(move || copy_locked(&databases, &to)).await?
}

fn copy_locked(databases: &[(String, PathBuf)], to: &Path) -> anyhow::Result<Duration> {
    let open = |name: &str, path: &Path| -> anyhow::Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("open {name}"))?;
        conn.busy_timeout(LOCK_WAIT)?;
        Ok(conn)
    };
    let mut locks = Vec::with_capacity(databases.len());
    let mut copiers = Vec::with_capacity(databases.len());
    for (name, path) in databases {
        locks.push(open(name, path)?);
        copiers.push(open(name, path)?);
    }
    let mut held = Vec::with_capacity(locks.len());
    let mut paused = None;
    let copied = (|| {
        for ((name, _), lock) in databases.iter().zip(&locks) {
            lock.execute_batch("BEGIN IMMEDIATE")
                .with_context(|| format!("lock {name} against writes"))?;
            held.push(lock);
            paused.get_or_insert_with(Instant::now);
        }
        for ((name, _), copier) in databases.iter().zip(&copiers) {
            let copy = to.join(name);
            copier
                .execute("VACUUM INTO ?1", [copy.display().to_string()])
                .with_context(|| format!("copy {name}"))?;
        }
        anyhow::Ok(())
    })();
    let paused = paused.map(|at| at.elapsed()).unwrap_or_default();
    for lock in held {
        lock.execute_batch("ROLLBACK")?;
    }
    copied?;
    for (name, _) in databases {
        std::fs::File::open(to.join(name))?.sync_all()?;
    }
    Ok(paused)
}

fn part(dir: &Path, file: &str) -> anyhow::Result<Part> {
    let bytes = std::fs::read(dir.join(file)).with_context(|| format!("read {file}"))?;
    Ok(Part {
        file: file.to_owned(),
        bytes: bytes.len() as u64,
        sha256: sha256(&bytes),
    })
}

/// The file is there and is what the manifest says.
fn check(dir: &Path, part: &Part) -> anyhow::Result<()> {
    ensure!(
        !part.file.contains(['/', '\\']) && part.file != ".." && !part.file.is_empty(),
        "the manifest names {:?}, which is not a file of the backup",
        part.file
    );
    let bytes = match std::fs::read(dir.join(&part.file)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => bail!(
            "the backup is partial: {} is missing from {}",
            part.file,
            dir.display()
        ),
        Err(error) => return Err(error).context(format!("read {}", part.file)),
    };
    ensure!(
        bytes.len() as u64 == part.bytes && sha256(&bytes) == part.sha256,
        "the backup is damaged: {} does not match its checksum in the manifest",
        part.file
    );
    Ok(())
}

async fn check_integrity(path: &Path) -> anyhow::Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let db = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("open {}", path.display()))?;
        let verdict: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        ensure!(
            verdict == "ok",
            "the backup is damaged: {} fails SQLite's integrity check: {verdict}",
            path.display()
        );
        Ok(())
    })
    .await?
}

fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sealing_key(passphrase: &str, salt: &[u8], sealed: &Sealed) -> anyhow::Result<LessSafeKey> {
    let params = argon2::Params::new(sealed.memory_kib, sealed.iterations, sealed.lanes, Some(32))
        .map_err(|e| anyhow::anyhow!("the key derivation's parameters: {e}"))?;
    let kdf = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0_u8; 32];
    kdf.hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| anyhow::anyhow!("deriving the sealing key: {e}"))?;
    let key = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| anyhow::anyhow!("a sealing key"))?;
    Ok(LessSafeKey::new(key))
}

fn seal(plain: &[u8], passphrase: &str) -> anyhow::Result<Sealed> {
    let random = SystemRandom::new();
    let (mut salt, mut nonce) = ([0_u8; 16], [0_u8; NONCE_LEN]);
    random
        .fill(&mut salt)
        .and_then(|()| random.fill(&mut nonce))
        .map_err(|_| anyhow::anyhow!("no randomness for the sealing key"))?;
    let mut sealed = Sealed {
        kdf: "argon2id".into(),
        memory_kib: KDF_MEMORY_KIB,
        iterations: KDF_ITERATIONS,
        lanes: KDF_LANES,
        salt: BASE64.encode(salt),
        nonce: BASE64.encode(nonce),
        ciphertext: String::new(),
    };
    let key = sealing_key(passphrase, &salt, &sealed)?;
    let mut text = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(KEYS),
        &mut text,
    )
    .map_err(|_| anyhow::anyhow!("sealing the signing keys"))?;
    sealed.ciphertext = BASE64.encode(text);
    Ok(sealed)
}

fn open(sealed: &Sealed, passphrase: &str) -> anyhow::Result<Vec<u8>> {
    let refused = || {
        anyhow::anyhow!(
            "{PASSPHRASE_VAR} does not open the backup's signing keys (another passphrase, \
             or the keys are damaged)"
        )
    };
    ensure!(
        sealed.kdf == "argon2id",
        "the signing keys are sealed with {}",
        sealed.kdf
    );
    let salt = BASE64.decode(&sealed.salt).map_err(|_| refused())?;
    let nonce: [u8; NONCE_LEN] = BASE64
        .decode(&sealed.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(refused)?;
    let mut text = BASE64.decode(&sealed.ciphertext).map_err(|_| refused())?;
    let key = sealing_key(passphrase, &salt, sealed)?;
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(KEYS),
            &mut text,
        )
        .map_err(|_| refused())?;
    Ok(plain.to_vec())
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file =
        std::fs::File::create(path).with_context(|| format!("write {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Makes the renames in `dir` durable.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Only the owner reads the signing keys.
fn restrict(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sealed_open_with_their_passphrase_only() {
        let sealed = seal(b"{\"keys\": []}", "a long passphrase").unwrap();
        assert_eq!(
            open(&sealed, "a long passphrase").unwrap(),
            b"{\"keys\": []}"
        );
        let error = open(&sealed, "another passphrase").unwrap_err().to_string();
        assert!(error.contains("does not open"), "{error}");
        let mut tampered = sealed;
        tampered.ciphertext = BASE64.encode(b"not what was sealed, not at all");
        assert!(open(&tampered, "a long passphrase").is_err());
    }

    #[test]
    fn a_manifest_cannot_name_a_file_outside_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let outside = Part {
            file: "../etc/passwd".into(),
            bytes: 0,
            sha256: String::new(),
        };
        let error = check(dir.path(), &outside).unwrap_err().to_string();
        assert!(error.contains("not a file of the backup"), "{error}");
    }
}
