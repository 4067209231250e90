//! Calls from one service to another over HTTP, when the callee runs in another process:
//! the client side of the `/internal/v1` routes. Each call carries a service token (see
//! `ordo_http::service_auth`) and the caller's trace, has a deadline, is tried again on
//! another instance only when that is safe (the request never reached the callee, or the
//! call is a read or a write idempotent by its id) and the retry budget allows it, and goes
//! through a circuit breaker per callee. A callee that is down or too slow is
//! `ClientError::Unavailable` — a 503 with `Retry-After` for the caller's own client —
//! never a hang, never a 500.

mod breaker;
mod budget;

use breaker::Breaker;
use budget::RetryBudget;
use ordo_bus::Echoes;
use ordo_contracts::ClientError;
use ordo_http::service_auth::ServiceTokens;
use ordo_kernel::trace::TraceContext;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How calls to other services behave.
#[derive(Debug, Clone, Copy)]
pub struct RemoteSettings {
    /// A call's whole time, retries included.
    pub deadline: Duration,
    /// Tries of one call at most, the first included.
    pub attempts: u32,
    /// Failures in a row that open a callee's breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls before one is let through to probe.
    pub breaker_cooldown: Duration,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            deadline: Duration::from_secs(3),
            attempts: 3,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(5),
        }
    }
}

/// What the remote clients of one process share: the connection pool, the service tokens
/// the process presents, the settings.
#[derive(Clone)]
pub struct Remotes {
    http: reqwest::Client,
    tokens: Arc<ServiceTokens>,
    settings: RemoteSettings,
    echoes: Echoes,
}

impl std::fmt::Debug for Remotes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remotes")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Remotes {
    /// Clients presenting `tokens`, behaving as `settings` say, hearing the wake-ups the
    /// services they call echo through `echoes`.
    #[must_use]
    pub fn new(tokens: Arc<ServiceTokens>, settings: RemoteSettings, echoes: Echoes) -> Self {
        Remotes {
            http: reqwest::Client::new(),
            tokens,
            settings,
            echoes,
        }
    }

    /// A client of `callee`, whose instances answer at `instances` (base URLs).
    #[must_use]
    pub fn to(&self, callee: &'static str, instances: Vec<String>) -> ServiceClient {
        let instances = instances
            .into_iter()
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect();
        ServiceClient {
            callee,
            held: Arc::new(()),
            instances,
            next: AtomicUsize::new(fastrand::usize(..1024)),
            breaker: Breaker::new(
                self.settings.breaker_failures,
                self.settings.breaker_cooldown,
            ),
            budget: RetryBudget::default(),
            remotes: self.clone(),
        }
    }
}

/// Whether a call may be sent again after a failure that may have reached the callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A read, or a write idempotent by its id (`reserve` by order id): sent again.
    Safe,
    /// Sent again only when it never reached the callee (the connection was refused).
    Never,
}

/// The client of one service's instances.
pub struct ServiceClient {
    callee: &'static str,
    /// Lives as long as this client: whether anything still holds it.
    held: Arc<()>,
    instances: Vec<String>,
    next: AtomicUsize,
    breaker: Breaker,
    budget: RetryBudget,
    remotes: Remotes,
}

impl std::fmt::Debug for ServiceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceClient")
            .field("callee", &self.callee)
            .field("instances", &self.instances)
            .finish_non_exhaustive()
    }
}

/// How one try ended, when it did not answer.
enum Failure {
    /// The request never reached the callee: any call may go again.
    NotSent(String),
    /// It may have reached the callee: only a safe call goes again.
    Lost(String),
    /// The callee answered with a refusal or a fault: no try changes that.
    Final(ClientError),
}

impl ServiceClient {
    #[must_use]
    pub fn callee(&self) -> &'static str {
        self.callee
    }

    /// Where the callee's wake-ups are heard (its live streams' changes).
    #[must_use]
    pub fn echoes(&self) -> &Echoes {
        &self.remotes.echoes
    }

    /// Upgrades for as long as this client exists: a process learns after wiring whether
    /// any of its services kept it, that is, needs the callee.
    #[must_use]
    pub fn held(&self) -> Weak<()> {
        Arc::downgrade(&self.held)
    }

    /// `GET {path}` (under the callee's `/internal/v1/{callee}`) with `query`, retried when
    /// safe; the JSON answer.
    ///
    /// # Errors
    /// `Unavailable` when the callee is down, slow or its breaker is open; `Invalid` when it
    /// refused the request; `Failed` for a fault.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        self.call(
            reqwest::Method::GET,
            path,
            query,
            None::<&()>,
            Retry::Safe,
            None,
        )
        .await
    }

    /// `POST {path}` with a JSON `body` in the caller's `trace`; the JSON answer.
    ///
    /// # Errors
    /// As [`ServiceClient::get`].
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        retry: Retry,
        trace: Option<TraceContext>,
    ) -> Result<T, ClientError> {
        self.call(reqwest::Method::POST, path, &[], Some(body), retry, trace)
            .await
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        retry: Retry,
        trace: Option<TraceContext>,
    ) -> Result<T, ClientError> {
        if !self.breaker.admit() {
            return Err(self.unavailable("too many recent failures; calls paused"));
        }
        let settings = self.remotes.settings;
        let started = Instant::now();
        let trace = trace.or_else(ordo_telemetry::current);
        self.budget.earn();
        let mut last = String::new();
        for attempt in 0..settings.attempts.max(1) {
            let left = settings.deadline.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            if attempt > 0 {
                if !self.budget.take_retry() {
                    break;
                }
                // Full jitter: instances that failed together are not hit together again.
                let pause = Duration::from_millis(fastrand::u64(0..=25 << attempt.min(5)));
                tokio::time::sleep(pause.min(left)).await;
            }
            let left = settings.deadline.saturating_sub(started.elapsed());
            match self.try_once(&method, path, query, body, trace, left).await {
                Ok(answer) => {
                    self.breaker.succeeded();
                    return Ok(answer);
                }
                Err(Failure::Final(error)) => {
                    if matches!(error, ClientError::Unavailable { .. }) {
                        self.breaker.failed();
                    } else {
                        self.breaker.succeeded();
                    }
                    return Err(error);
                }
                Err(Failure::NotSent(why)) => last = why,
                Err(Failure::Lost(why)) => {
                    last = why;
                    if retry == Retry::Never {
                        break;
                    }
                }
            }
        }
        self.breaker.failed();
        Err(self.unavailable(&last))
    }

    async fn try_once<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: &reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        trace: Option<TraceContext>,
        left: Duration,
    ) -> Result<T, Failure> {
        let Some(base) = self.pick() else {
            return Err(Failure::Final(
                self.unavailable("no instance is configured"),
            ));
        };
        let token = self
            .remotes
            .tokens
            .for_callee(self.callee)
            .map_err(|error| Failure::Final(self.failed(&error)))?;
        let mut request = self
            .remotes
            .http
            .request(
                method.clone(),
                format!("{base}/internal/v1/{}{path}", self.callee),
            )
            .bearer_auth(token)
            .timeout(left);
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(trace) = trace {
            request = request.header("traceparent", trace.to_string());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| {
            let why = format!("{base}: {error}");
            if error.is_connect() {
                Failure::NotSent(why)
            } else {
                Failure::Lost(why)
            }
        })?;
        let status = response.status();
        if status.is_success() {
            let bytes = response
                .bytes()
                .await
                .map_err(|error| Failure::Lost(format!("{base}: {error}")))?;
            let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(text).map_err(|error| {
                Failure::Final(self.failed(&format!("an answer that does not parse: {error}")))
            });
        }
        let detail = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|problem| problem["detail"].as_str().map(str::to_owned))
            .unwrap_or_else(|| status.to_string());
        Err(match status.as_u16() {
            502..=504 => Failure::Lost(format!("{base}: {status}: {detail}")),
            400 | 422 => Failure::Final(ClientError::Invalid(detail)),
            _ => Failure::Final(self.failed(&format!("{status}: {detail}"))),
        })
    }

    /// The next instance, in turn.
    fn pick(&self) -> Option<&str> {
        if self.instances.is_empty() {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Some(&self.instances[n % self.instances.len()])
    }

    fn unavailable(&self, detail: &str) -> ClientError {
        ClientError::Unavailable {
            service: self.callee,
            detail: detail.to_owned(),
        }
    }

    fn failed(&self, detail: &str) -> ClientError {
        ClientError::Failed {
            service: self.callee,
            detail: detail.to_owned(),
        }
    }
}
