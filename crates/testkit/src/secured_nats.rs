//! A NATS server of one test's own that checks who talks to it: a user and password, and
//! TLS both ways with a certificate authority the test makes (the server's certificate
//! and a client's). The server binary comes from `TEST_NATS_SERVER`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const NATS_SERVER_VAR: &str = "TEST_NATS_SERVER";
/// The user the server lets in, with [`SecuredNats::PASSWORD`].
pub const NATS_USER: &str = "ordo";

/// A running `nats-server` with JetStream, an authorization block and verified TLS.
#[derive(Debug)]
pub struct SecuredNats {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SecuredNats {
    pub const PASSWORD: &'static str = "nats-secret-4f1c9a";

    /// Starts the server, or returns `None` (with a note on stderr) when `TEST_NATS_SERVER`
    /// is unset.
    ///
    /// # Panics
    /// Under `CI=true` when `TEST_NATS_SERVER` is unset, or when the server does not start.
    pub async fn start(test: &str) -> Option<SecuredNats> {
        let bin = crate::server(NATS_SERVER_VAR, "a NATS server of its own", test)?;
        let dir = crate::temp_dir();
        crate::tls::authority(dir.path());
        let port = crate::free_port();
        let file = |name: &str| dir.path().join(name).display().to_string();
        let config = format!(
            "listen: \"127.0.0.1:{port}\"\n\
             jetstream {{ store_dir: \"{store}\" }}\n\
             authorization {{ user: \"{NATS_USER}\", password: \"{password}\" }}\n\
             tls {{ cert_file: \"{cert}\", key_file: \"{key}\", ca_file: \"{ca}\", verify: true, timeout: 5 }}\n",
            store = file("jetstream"),
            password = Self::PASSWORD,
            cert = file("server-cert.pem"),
            key = file("server-key.pem"),
            ca = file("ca.pem"),
        );
        std::fs::write(dir.path().join("nats.conf"), config).expect("nats.conf written");
        let log = std::fs::File::create(dir.path().join("nats.log")).expect("the server's log");
        let child = Command::new(&bin)
            .arg("-c")
            .arg(dir.path().join("nats.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the server's log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let server = SecuredNats { port, dir, child };
        crate::until_listening(port, "nats-server").await;
        Some(server)
    }

    /// `nats://user:password@127.0.0.1:port`, with `password`.
    #[must_use]
    pub fn url_with(&self, password: &str) -> String {
        format!("nats://{NATS_USER}:{password}@127.0.0.1:{}", self.port)
    }

    /// A file the test's certificate authority made: `ca.pem`, `client-cert.pem`,
    /// `client-key.pem`.
    #[must_use]
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for SecuredNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
