//! Whole-platform journeys through HTTP: `TestApp` starts `ordo` on port 0 with a fresh
//! data dir (SQLite) or fresh schemas (PostgreSQL), and offers a client and helpers.

pub mod fixtures;

use ordo_app::registry::Databases;
use ordo_app::{Config, Platform, Running};
use ordo_testkit::Backend;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

tokio::task_local! {
    /// The `kafka://` URL the platforms started within [`on_kafka`] relay through.
    static KAFKA: String;
}

/// Runs `journey` with every platform it starts on PostgreSQL relaying its events through
/// Kafka at `url`, instead of NATS.
pub async fn on_kafka<F: Future>(url: String, journey: F) -> F::Output {
    KAFKA.scope(url, journey).await
}

/// A running platform for one test.
pub struct TestApp {
    pub backend: Backend,
    pub config: Config,
    pub address: SocketAddr,
    pub databases: Databases,
    pub client: reqwest::Client,
    running: Option<Running>,
    dir: tempfile::TempDir,
}

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the platform with the test's configuration changed by `customize`.
    pub async fn spawn_with(backend: Backend, customize: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_adding(backend, customize, |_| Vec::new()).await
    }

    /// Starts the registered services and those `extra` makes from the test's configuration.
    pub async fn spawn_adding(
        backend: Backend,
        customize: impl FnOnce(&mut Config),
        extra: impl FnOnce(&Config) -> Vec<ordo_kit::Service>,
    ) -> TestApp {
        let dir = ordo_testkit::temp_dir();
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.path().to_path_buf(),
            log_level: "warn".into(),
            ..Config::default()
        };
        if let Backend::Postgres { url, schema_prefix } = &backend {
            config.database_url = Some(ordo_kernel::Secret::new(url.clone()));
            config.database_schema_prefix.clone_from(schema_prefix);
            config.database_max_connections = 4;
            // Scaled-out storage goes with the scaled-out bus, when a broker is given.
            let broker = KAFKA
                .try_with(Clone::clone)
                .ok()
                .or_else(|| ordo_testkit::nats("e2e journey with the NATS bus"));
            if let Some(broker) = broker {
                config.bus_url = Some(ordo_kernel::Secret::new(broker));
                config.bus.stream = format!("E2E_{schema_prefix}");
                config.bus.subject_prefix.clone_from(schema_prefix);
                config.bus.partitions = 3;
                // And what the processes share, in Redis, when one is given.
                if let Some(redis) = ordo_testkit::redis("e2e journey with Redis") {
                    config.redis_url = Some(ordo_kernel::Secret::new(redis));
                    config.redis.prefix = format!("{schema_prefix}:");
                }
            }
        }
        customize(&mut config);
        // No span export here: the guard may go at once.
        drop(ordo_app::logging::init(&config).expect("logging starts"));
        let extra = extra(&config);
        Self::start(backend, config, dir, extra).await
    }

    async fn start(
        backend: Backend,
        config: Config,
        dir: tempfile::TempDir,
        extra: Vec<ordo_kit::Service>,
    ) -> TestApp {
        let running = Platform::start_with(config.clone(), extra)
            .await
            .expect("platform starts");
        TestApp {
            backend,
            address: running.address,
            databases: running.databases.clone(),
            config,
            client: reqwest::Client::new(),
            running: Some(running),
            dir,
        }
    }

    /// Stops the platform and starts it again on the same data (the registered services).
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// Stops the platform, lets `meddle` change its data dir (as an operator or a disk
    /// might), and starts it again.
    pub async fn restart_with(mut self, meddle: impl FnOnce(&std::path::Path)) -> TestApp {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean stop");
        }
        meddle(self.dir.path());
        let mut config = self.config.clone();
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start(self.backend.clone(), config, self.dir, Vec::new()).await
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean stop");
        }
        if let Some(url) = &self.config.bus_url
            && url.expose().starts_with("nats://")
            && let Ok(client) = async_nats::connect(url.expose().as_str()).await
        {
            let _ = async_nats::jetstream::new(client)
                .delete_stream(&self.config.bus.stream)
                .await;
        }
    }

    #[must_use]
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// `/readyz`'s status and body.
    pub async fn readyz(&self) -> (StatusCode, Value) {
        let response = self.client.get(self.url("/readyz")).send().await.unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    }

    /// The configuration the platform runs with.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    #[must_use]
    pub fn identity(&self) -> std::sync::Arc<ordo_identity::Identity> {
        self.service::<ordo_identity::Identity>()
    }

    /// A service's use cases, as the command line reaches them.
    ///
    /// # Panics
    /// When no running service provides them.
    #[must_use]
    pub fn service<T: ?Sized + Send + Sync + 'static>(&self) -> std::sync::Arc<T> {
        self.running
            .as_ref()
            .expect("running")
            .service::<T>()
            .expect("the service runs")
    }

    /// Waits until `check` holds, looking again whenever the platform's event bus makes
    /// progress: for effects that follow an event.
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let progress = self
            .running
            .as_ref()
            .map(|r| r.progress.clone())
            .expect("running");
        ordo_testkit::until(&progress, what, check).await;
    }

    /// Waits until `check` holds, looking again after each readiness measurement: for what
    /// `/readyz` says.
    pub async fn until_readiness<F, Fut>(&self, what: &str, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let measured = self
            .running
            .as_ref()
            .map(|r| r.readiness.measured())
            .expect("running");
        ordo_testkit::until(&measured, what, check).await;
    }

    /// Waits until the platform's readiness is `ready`, looking again after each of its
    /// measurements.
    pub async fn until_ready_is(&self, ready: bool) {
        let readiness = self
            .running
            .as_ref()
            .map(|r| r.readiness.clone())
            .expect("running");
        let what = format!("readiness is {ready}");
        ordo_testkit::until(&readiness.measured(), &what, || async {
            readiness.is_ready() == ready
        })
        .await;
    }

    /// The notification the platform's bus gives as it makes progress.
    #[must_use]
    pub fn progress(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.running
            .as_ref()
            .map(|r| r.progress.clone())
            .expect("running")
    }

    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A request to `/api/v1{path}`.
    pub fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(&format!("/api/v1{path}")))
    }

    /// A request to `/api/v1{path}` as `session`.
    pub fn as_user(&self, session: &Session, method: Method, path: &str) -> RequestBuilder {
        self.api(method, path).bearer_auth(&session.access_token)
    }

    /// Registers a user with `role` and logs in.
    pub async fn signup(&self, role: &str) -> Session {
        let email = format!("{role}-{}@example.com", Uuid::now_v7().simple());
        let response = self
            .api(Method::POST, "/auth/register")
            .json(&json!({"email": email, "password": PASSWORD, "name": "Test User", "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        self.login(&email, PASSWORD).await
    }

    /// An administrator, made the only way there is: through the identity use case the
    /// command line calls.
    pub async fn admin(&self) -> Session {
        let email = format!("admin-{}@example.com", Uuid::now_v7().simple());
        self.identity()
            .create_admin(&email, PASSWORD)
            .await
            .expect("admin created");
        self.login(&email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let response = self
            .api(Method::POST, "/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let tokens: Value = response.json().await.unwrap();
        let access_token = tokens["access_token"].as_str().unwrap().to_owned();
        let me: Value = self
            .api(Method::GET, "/me")
            .bearer_auth(&access_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Session {
            id: me["id"].as_str().unwrap().parse().unwrap(),
            email: email.to_owned(),
            access_token,
            refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The platform's OpenAPI document.
    pub async fn openapi(&self) -> Value {
        self.api(Method::GET, "/openapi.json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Rows in `table` of `service`'s database: how tests prove that nothing was written.
    pub async fn count(&self, service: &str, table: &str) -> i64 {
        let db = &self.databases[service];
        let (count,) = db
            .fetch_one(&format!("SELECT COUNT(*) FROM {table}"), ordo_db::params![])
            .await
            .unwrap();
        count
    }
}

/// Sends `request` and reads its JSON body, whatever the status.
pub async fn json_of(request: RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Reads a problem+json response, checking its content type.
pub async fn problem(response: reqwest::Response) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    response.json().await.unwrap()
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    /// The data as JSON, or as a JSON string when it is not JSON.
    pub data: Value,
}

/// Reads a `text/event-stream` response event by event.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// # Panics
    /// When the response is not an event stream.
    #[must_use]
    pub fn new(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments and keep-alives skipped), or `None` once the server closed
    /// the stream.
    ///
    /// # Panics
    /// When nothing comes for 30 s: the platform is stuck.
    pub async fn next(&mut self) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = ("message".to_owned(), None, String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        value.trim().clone_into(&mut event);
                    } else if let Some(value) = line.strip_prefix("id:") {
                        id = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if data.is_empty() && id.is_none() {
                    continue;
                }
                let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(SseEvent { event, id, data });
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("an event in time")
                .expect("the stream reads")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads until an event satisfies `wanted`, and returns it with the ones before it.
    ///
    /// # Panics
    /// When the stream ends first.
    pub async fn until(&mut self, wanted: impl Fn(&SseEvent) -> bool) -> Vec<SseEvent> {
        let mut seen = Vec::new();
        loop {
            let event = self.next().await.expect("the stream goes on");
            let done = wanted(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }
}
