//! A Redis server of one test's own that checks who talks to it: a password, and TLS with a
//! certificate authority the test makes. The server binary comes from `TEST_REDIS_SERVER`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const REDIS_SERVER_VAR: &str = "TEST_REDIS_SERVER";

/// A running `redis-server` answering only TLS, with a password.
#[derive(Debug)]
pub struct SecuredRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SecuredRedis {
    pub const PASSWORD: &'static str = "redis-secret-8e2d71";

    /// Starts the server, or returns `None` (with a note on stderr) when `TEST_REDIS_SERVER`
    /// is unset.
    ///
    /// # Panics
    /// Under `CI=true` when `TEST_REDIS_SERVER` is unset, or when the server does not start.
    pub async fn start(test: &str) -> Option<SecuredRedis> {
        let bin = crate::server(REDIS_SERVER_VAR, "a Redis server of its own", test)?;
        let dir = crate::temp_dir();
        crate::tls::authority(dir.path());
        let port = crate::free_port();
        let log = std::fs::File::create(dir.path().join("redis.log")).expect("the server's log");
        let child = Command::new(&bin)
            .args([
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args([
                "--tls-port",
                &port.to_string(),
                "--tls-auth-clients",
                "optional",
            ])
            .arg("--tls-cert-file")
            .arg(dir.path().join("server-cert.pem"))
            .arg("--tls-key-file")
            .arg(dir.path().join("server-key.pem"))
            .arg("--tls-ca-cert-file")
            .arg(dir.path().join("ca.pem"))
            .args(["--requirepass", Self::PASSWORD])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the server's log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let server = SecuredRedis { port, dir, child };
        crate::until_listening(port, "redis-server").await;
        Some(server)
    }

    /// `rediss://:password@host:port`, with `password`, at `host` (`127.0.0.1` or
    /// `localhost`, both named in the server's certificate).
    #[must_use]
    pub fn url_with(&self, host: &str, password: &str) -> String {
        format!("rediss://:{password}@{host}:{}", self.port)
    }

    /// A file the test's certificate authority made: `ca.pem`, `client-cert.pem`,
    /// `client-key.pem`.
    #[must_use]
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for SecuredRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
