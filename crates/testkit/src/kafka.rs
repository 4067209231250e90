//! Kafka-protocol brokers for tests: the shared one `.ci/run` starts (`TEST_KAFKA_URL`), or
//! one of a test's own (tansu, from `TEST_TANSU`) behind a [`TcpProxy`], for tests that cut
//! the brokers off or make them lose their log. A Kafka client connects to the addresses
//! the broker advertises, so that broker advertises the proxy's: every connection passes
//! through it.

use crate::TcpProxy;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const KAFKA_URL_VAR: &str = "TEST_KAFKA_URL";
pub const TANSU_VAR: &str = "TEST_TANSU";

/// The shared Kafka broker (`kafka://host:port`) for one test, or `None` (with a note on
/// stderr) when none was given.
///
/// # Panics
/// Under `CI=true` when `TEST_KAFKA_URL` is unset.
#[must_use]
pub fn kafka(test: &str) -> Option<String> {
    crate::server(KAFKA_URL_VAR, "Kafka", test)
}

/// A tansu broker of one test's own, on its memory engine: stopped, it forgets everything.
#[derive(Debug)]
pub struct Tansu {
    bin: PathBuf,
    port: u16,
    advertised: std::net::SocketAddr,
    log: PathBuf,
    flags: Vec<String>,
    child: Option<Child>,
}

impl Tansu {
    /// A broker behind a proxy, or `None` (with a note on stderr) when `TEST_TANSU` is
    /// unset; `kafka://` and the proxy's address reach it.
    ///
    /// # Panics
    /// Under `CI=true` when `TEST_TANSU` is unset, or when the broker does not start.
    pub async fn behind_proxy(test: &str) -> Option<(Tansu, TcpProxy)> {
        Self::launched(test, &[]).await
    }

    /// A broker behind a proxy that requires its clients to authenticate (SASL).
    ///
    /// # Panics
    /// As [`Tansu::behind_proxy`].
    pub async fn authenticating(test: &str) -> Option<(Tansu, TcpProxy)> {
        Self::launched(test, &["--authentication"]).await
    }

    async fn launched(test: &str, flags: &[&str]) -> Option<(Tansu, TcpProxy)> {
        let bin = crate::server(TANSU_VAR, "a Kafka broker of its own (tansu)", test)?;
        let port = crate::free_port();
        let proxy = TcpProxy::start(format!("127.0.0.1:{port}")).await;
        let mut tansu = Tansu {
            bin: bin.into(),
            port,
            advertised: proxy.addr,
            log: std::env::temp_dir().join(format!("ordo-tansu-{port}.log")),
            flags: flags.iter().map(|flag| (*flag).to_owned()).collect(),
            child: None,
        };
        tansu.launch().await;
        Some((tansu, proxy))
    }

    /// The URL the bus is given: the proxy's address.
    #[must_use]
    pub fn url(&self) -> String {
        format!("kafka://{}", self.advertised)
    }

    /// Stops the broker and starts it again with an empty log, as brokers that lost their
    /// store would come back.
    ///
    /// # Panics
    /// When the broker does not start again.
    pub async fn restart_empty(&mut self) {
        self.kill();
        self.launch().await;
    }

    async fn launch(&mut self) {
        let log = std::fs::File::create(&self.log).expect("the broker's log file");
        let child = Command::new(&self.bin)
            .arg("broker")
            .args([
                "--listener-url",
                &format!("tcp://127.0.0.1:{}", self.port),
                "--advertised-listener-url",
                &format!("tcp://{}", self.advertised),
                "--storage-engine",
                "memory://tansu/",
            ])
            .args(&self.flags)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the broker's log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.bin.display()));
        self.child = Some(child);
        crate::until_listening(
            self.port,
            &format!("tansu (its log: {})", self.log.display()),
        )
        .await;
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.kill();
        // Kept when the test failed, for whoever looks into it.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
