//! Test support shared by every crate's tests: which database backends to run on, and a
//! unique PostgreSQL schema prefix per test so tests never see each other's rows.
//!
//! PostgreSQL tests read the server's URL from `TEST_POSTGRES_URL` (set by `.ci/run`).
//! Without it they print that they were skipped; under `CI=true` a missing server fails.

use std::path::PathBuf;

pub const POSTGRES_URL_VAR: &str = "TEST_POSTGRES_URL";

/// Where a test's databases live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files in a fresh temporary directory.
    Sqlite,
    /// A fresh set of schemas, named with `schema_prefix`, in the database at `url`.
    Postgres { url: String, schema_prefix: String },
}

impl Backend {
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

/// The PostgreSQL backend for one test, or `None` (with a note on stderr) when no server
/// was given.
///
/// # Panics
/// Under `CI=true` when `TEST_POSTGRES_URL` is unset: CI must not skip silently.
#[must_use]
pub fn postgres(test: &str) -> Option<Backend> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(Backend::Postgres {
            url,
            schema_prefix: unique_prefix(),
        }),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{POSTGRES_URL_VAR} is not set but CI=true: the PostgreSQL run of `{test}` cannot be skipped"
            );
            eprintln!("skipped: {test} on PostgreSQL ({POSTGRES_URL_VAR} is not set)");
            None
        }
    }
}

/// A schema prefix no other test uses.
#[must_use]
pub fn unique_prefix() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    // The tail of a v7 id is random; its head is the clock, shared by tests started together.
    format!("t{}", &id[id.len() - 14..])
}

/// A temporary directory removed when dropped; the data dir of one test.
///
/// # Panics
/// When the system temporary directory is not writable.
#[must_use]
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ordo-test-")
        .tempdir()
        .expect("create a temporary directory")
}

/// The workspace root, for tests that read fixtures or run the binary.
#[must_use]
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Declares one async test per backend: `mod NAME { sqlite, postgres }`, each calling
/// `body(backend)`. The PostgreSQL case skips (or fails under CI) as `postgres()` says.
#[macro_export]
macro_rules! backend_test {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::postgres(concat!(module_path!(), "::postgres")) {
                    super::$body(backend).await;
                }
            }
        }
    };
}
