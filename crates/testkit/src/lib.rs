//! Test support shared by every crate's tests: which database backends to run on, and a
//! unique PostgreSQL schema prefix per test so tests never see each other's rows.
//!
//! PostgreSQL tests read the server's URL from `TEST_POSTGRES_URL` (set by `.ci/run`).
//! Without it they print that they were skipped; under `CI=true` a missing server fails.

mod kafka;
mod secured_nats;
mod secured_redis;
mod tls;

pub use kafka::{KAFKA_URL_VAR, TANSU_VAR, Tansu, kafka};
pub use secured_nats::{NATS_SERVER_VAR, NATS_USER, SecuredNats};
pub use secured_redis::{REDIS_SERVER_VAR, SecuredRedis};
pub use tls::authority;

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
    server(POSTGRES_URL_VAR, "PostgreSQL", test).map(|url| Backend::Postgres {
        url,
        schema_prefix: unique_prefix(),
    })
}

pub const POSTGRES_TLS_URL_VAR: &str = "TEST_POSTGRES_TLS_URL";

/// The PostgreSQL server over verified TLS (`sslmode=verify-full` with its `sslrootcert`),
/// as a backend with a [`unique_prefix`], or `None` (with a note on stderr) when none was
/// given.
///
/// # Panics
/// Under `CI=true` when `TEST_POSTGRES_TLS_URL` is unset.
#[must_use]
pub fn postgres_tls(test: &str) -> Option<Backend> {
    server(POSTGRES_TLS_URL_VAR, "PostgreSQL over TLS", test).map(|url| Backend::Postgres {
        url,
        schema_prefix: unique_prefix(),
    })
}

impl Backend {
    /// Database options for this backend, with SQLite files under `dir`.
    #[must_use]
    pub fn db_options(&self, dir: &std::path::Path) -> ordo_db::DbOptions {
        let (url, schema_prefix) = match self {
            Backend::Sqlite => (None, String::new()),
            Backend::Postgres { url, schema_prefix } => (
                Some(ordo_kernel::Secret::new(url.clone())),
                schema_prefix.clone(),
            ),
        };
        ordo_db::DbOptions {
            data_dir: dir.to_path_buf(),
            url,
            schema_prefix,
            max_connections: 4,
            acquire_timeout: std::time::Duration::from_secs(5),
            idle_timeout: std::time::Duration::from_secs(60),
        }
    }

    /// The database of `service` on this backend.
    ///
    /// # Panics
    /// When the database cannot be reached.
    pub async fn open(&self, dir: &std::path::Path, service: &str) -> ordo_db::Db {
        ordo_db::Db::connect(&self.db_options(dir), service)
            .await
            .unwrap_or_else(|e| panic!("open the {service} database on {}: {e}", self.name()))
    }

    /// The database of `service` as the release before the last of `migrations` left it:
    /// every migration but the last applied. Migrating it with all of them upgrades it.
    ///
    /// # Panics
    /// When `migrations` is empty or one of them fails.
    pub async fn open_previous_release(
        &self,
        dir: &std::path::Path,
        service: &str,
        migrations: &[ordo_db::Migration],
    ) -> ordo_db::Db {
        let db = self.open(dir, service).await;
        let (_, before) = migrations.split_last().expect("a migration to upgrade to");
        db.migrate(before)
            .await
            .unwrap_or_else(|e| panic!("the release before of {service}: {e}"));
        db
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

/// The workspace root, for tests that read fixtures or run the binary: the nearest directory
/// holding `Cargo.lock` above the package whose test runs. Asked of cargo when the test runs,
/// not when it was built: checkouts sharing a target directory share compiled tests, and a
/// path built in would name whichever checkout built them.
///
/// # Panics
/// Outside a checkout of the workspace.
#[must_use]
pub fn workspace_root() -> PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    package
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .unwrap_or_else(|| panic!("no Cargo.lock above {}", package.display()))
        .to_owned()
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

pub const NATS_URL_VAR: &str = "TEST_NATS_URL";

/// The NATS JetStream server for one test, or `None` (with a note on stderr) when none was
/// given.
///
/// # Panics
/// Under `CI=true` when `TEST_NATS_URL` is unset.
#[must_use]
pub fn nats(test: &str) -> Option<String> {
    server(NATS_URL_VAR, "NATS", test)
}

pub const REDIS_URL_VAR: &str = "TEST_REDIS_URL";

/// The Redis server for one test (its keys under a [`unique_prefix`]), or `None` (with a
/// note on stderr) when none was given.
///
/// # Panics
/// Under `CI=true` when `TEST_REDIS_URL` is unset.
#[must_use]
pub fn redis(test: &str) -> Option<String> {
    server(REDIS_URL_VAR, "Redis", test)
}

/// What a finished command printed, its standard output then its standard error: for
/// assertions on what it said and for their messages.
#[must_use]
pub fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A loopback port nothing listens on now, for a server a test starts.
///
/// # Panics
/// When no loopback port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Waits until something listens on loopback `port`: what a server's clients need, and
/// nothing else tells when it is (`what` names the server, and where to look, in the panic).
///
/// # Panics
/// When nothing listens within a minute.
pub async fn until_listening(port: u16, what: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not listen on {port} within a minute"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The address in `var`, or `None` after saying the test was skipped; a failure under CI.
/// A tool or server a test needs, from the environment variable `var` (a path or an
/// address), or `None` (with a note on stderr) when it is unset.
///
/// # Panics
/// Under `CI=true` when `var` is unset: CI runs every test.
#[must_use]
pub fn required(var: &str, what: &str, test: &str) -> Option<String> {
    server(var, what, test)
}

pub(crate) fn server(var: &str, what: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{var} is not set but CI=true: the {what} run of `{test}` cannot be skipped"
            );
            eprintln!("skipped: {test} on {what} ({var} is not set)");
            None
        }
    }
}

/// A TCP proxy in front of a server, so a test can cut the connection (a broker outage as
/// its clients see it) and restore it.
#[derive(Debug)]
pub struct TcpProxy {
    pub addr: std::net::SocketAddr,
    /// Notified whenever a connection is refused while cut.
    pub refusals: std::sync::Arc<tokio::sync::Notify>,
    refused: std::sync::Arc<std::sync::atomic::AtomicU64>,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    listener: tokio::task::JoinHandle<()>,
}

/// The `host:port` of `url` (`scheme://[user@]host:port[/…]`).
fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

impl TcpProxy {
    /// A proxy in front of the server `url` names (`scheme://[user@]host:port[/…]`).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn in_front_of(url: &str) -> Self {
        Self::start(host_port(url).to_owned()).await
    }

    /// `url` with its `host:port` replaced by the proxy's: the server through the proxy.
    #[must_use]
    pub fn url_for(&self, url: &str) -> String {
        url.replacen(host_port(url), &self.addr.to_string(), 1)
    }

    /// Listens on a free loopback port and forwards to `target` (`host:port`).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(target: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("the proxy's address");
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (accept_open, accept_links) = (open.clone(), links.clone());
        let refusals = std::sync::Arc::new(tokio::sync::Notify::new());
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (count, notify) = (refused.clone(), refusals.clone());
        let listener = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accept_open.load(Ordering::SeqCst) {
                    count.fetch_add(1, Ordering::SeqCst);
                    notify.notify_waiters();
                    continue;
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                accept_links
                    .lock()
                    .expect("proxy links")
                    .push(link.abort_handle());
            }
        });
        Self {
            addr,
            refusals,
            refused,
            open,
            links,
            listener,
        }
    }

    /// Connections refused since the proxy started.
    #[must_use]
    pub fn refused(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Drops every connection and refuses new ones until `restore`.
    ///
    /// # Panics
    /// If the proxy's lock was poisoned.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().expect("proxy links").drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.listener.abort();
    }
}

/// One message an [`SmtpSink`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpMessage {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body, as sent after `DATA`.
    pub data: String,
}

/// A local SMTP server for tests: it accepts every message (or refuses the next few, to
/// show retries) and keeps them for the test to read. Just enough SMTP for a real client.
#[derive(Debug)]
pub struct SmtpSink {
    pub addr: std::net::SocketAddr,
    messages: std::sync::Arc<std::sync::Mutex<Vec<SmtpMessage>>>,
    refuse: std::sync::Arc<std::sync::atomic::AtomicU32>,
    listener: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("the sink's address");
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let refuse = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (kept, refusing) = (messages.clone(), refuse.clone());
        let listener = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(smtp_session(stream, kept.clone(), refusing.clone()));
            }
        });
        Self {
            addr,
            messages,
            refuse,
            listener,
        }
    }

    /// Answers the next `count` messages with a temporary failure (451).
    pub fn refuse_next(&self, count: u32) {
        self.refuse
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every message accepted so far.
    ///
    /// # Panics
    /// If the sink's lock was poisoned.
    #[must_use]
    pub fn messages(&self) -> Vec<SmtpMessage> {
        self.messages.lock().expect("smtp sink").clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

async fn smtp_session(
    stream: tokio::net::TcpStream,
    messages: std::sync::Arc<std::sync::Mutex<Vec<SmtpMessage>>>,
    refuse: std::sync::Arc<std::sync::atomic::AtomicU32>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let reply = async |write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str| {
        write
            .write_all(format!("{text}\r\n").as_bytes())
            .await
            .is_ok()
    };
    if !reply(&mut write, "220 sink ESMTP").await {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250 sink"
        } else if upper.starts_with("MAIL FROM:") {
            let refused = refuse
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_ok();
            if refused {
                "451 try again later"
            } else {
                from = line[10..].trim().to_owned();
                to.clear();
                "250 OK"
            }
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().to_owned());
            "250 OK"
        } else if upper == "DATA" {
            if !reply(&mut write, "354 end with <CRLF>.<CRLF>").await {
                return;
            }
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(&line);
                data.push('\n');
            }
            messages.lock().expect("smtp sink").push(SmtpMessage {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            "250 OK queued"
        } else if upper == "QUIT" {
            let _ = reply(&mut write, "221 bye").await;
            return;
        } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
            "250 OK"
        } else {
            "502 not implemented"
        };
        if !reply(&mut write, answer).await {
            return;
        }
    }
}

/// Waits until `check` holds, looking again each time `progress` is notified (the system
/// under test says something happened), and fails the test after 30 s. No sleeping: a
/// check that turns true is seen at the next notification.
///
/// # Panics
/// When `check` does not hold within the deadline.
pub async fn until<F, Fut>(progress: &tokio::sync::Notify, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let notified = progress.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if check().await {
            return;
        }
        assert!(
            tokio::time::timeout_at(deadline, notified).await.is_ok(),
            "timed out waiting until {what}"
        );
    }
}

/// A fresh self-signed certificate for `localhost`, written to `cert.pem` and `key.pem` in
/// `dir` (over what was there): what a server is given, and what its clients trust.
///
/// # Panics
/// When the files cannot be written.
#[must_use]
pub fn certificate(dir: &std::path::Path) -> rustls::pki_types::CertificateDer<'static> {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("a self-signed certificate");
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).expect("cert.pem written");
    std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).expect("key.pem written");
    made.cert.der().clone()
}

/// A TLS connection to `localhost` at `address` from a client that trusts `trusted` alone.
///
/// # Errors
/// The connection or the handshake fails (the server shows another certificate).
///
/// # Panics
/// When `trusted` is not a certificate rustls takes.
pub async fn tls_connect(
    address: std::net::SocketAddr,
    trusted: &rustls::pki_types::CertificateDer<'static>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).expect("a certificate to trust");
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a server name");
    connector.connect(name, tcp).await
}
