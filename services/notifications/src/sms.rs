//! Text messages, beside email: the provider interface, the sandbox (which sends nothing —
//! every message is recorded, and operators read them at `GET /admin/sms`) and a gateway
//! reached over HTTP with signed requests.

use crate::config::{SmsConfig, SmsProviderKind};
use ordo_kernel::Secret;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub type SmsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One text message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sms {
    /// The notification it tells: the same id is the same message, however often sent.
    pub id: Uuid,
    /// In E.164.
    pub to: String,
    pub body: String,
}

pub trait SmsProvider: Send + Sync {
    /// The provider's name, recorded with each message.
    fn name(&self) -> &'static str;

    /// Hands `sms` to the provider.
    fn send<'a>(&'a self, sms: &'a Sms) -> SmsFuture<'a>;
}

/// The provider `config` names.
///
/// # Errors
/// The HTTP client cannot be built.
pub fn provider(config: &SmsConfig) -> Result<Arc<dyn SmsProvider>, String> {
    Ok(match (config.provider, &config.url, &config.secret) {
        (SmsProviderKind::Http, Some(url), Some(secret)) => Arc::new(HttpGateway::new(
            url,
            secret.clone(),
            &config.sender,
            Duration::from_secs(config.timeout_secs),
        )?),
        (SmsProviderKind::Http, _, _) => {
            return Err("sms: the http provider needs sms.url and sms.secret".into());
        }
        (SmsProviderKind::Sandbox, _, _) => Arc::new(Sandbox),
    })
}

/// Sends nothing: the record the service keeps of every message is the message.
#[derive(Debug, Clone, Copy)]
pub struct Sandbox;

impl SmsProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn send<'a>(&'a self, _sms: &'a Sms) -> SmsFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// Posts `{id, from, to, body}` as JSON to a gateway, signed as the platform's webhooks
/// are — `Ordo-Signature: t={unix time},v1={hex HMAC-SHA256 of "{t}.{body}"}` — and with
/// `Idempotency-Key: {id}`, so that a message retried after a lost answer goes out once.
/// Any 2xx answer is a message taken.
pub struct HttpGateway {
    client: reqwest::Client,
    url: String,
    secret: Secret<String>,
    sender: String,
}

impl std::fmt::Debug for HttpGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpGateway")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Request<'a> {
    id: Uuid,
    from: &'a str,
    to: &'a str,
    body: &'a str,
}

impl HttpGateway {
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(
        url: &str,
        secret: Secret<String>,
        sender: &str,
        timeout: Duration,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("sms: {e}"))?;
        Ok(HttpGateway {
            client,
            url: url.to_owned(),
            secret,
            sender: sender.to_owned(),
        })
    }
}

impl SmsProvider for HttpGateway {
    fn name(&self) -> &'static str {
        "http"
    }

    fn send<'a>(&'a self, sms: &'a Sms) -> SmsFuture<'a> {
        Box::pin(async move {
            let body = serde_json::to_vec(&Request {
                id: sms.id,
                from: &self.sender,
                to: &sms.to,
                body: &sms.body,
            })
            .map_err(|e| e.to_string())?;
            let signature = ordo_kernel::signature::sign(
                self.secret.expose().as_bytes(),
                &body,
                ordo_kernel::time::now(),
            );
            let answer = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("ordo-signature", signature)
                .header("idempotency-key", sms.id.to_string())
                .body(body)
                .send()
                .await
                .map_err(|e| format!("the SMS gateway cannot be reached: {e}"))?;
            if answer.status().is_success() {
                Ok(())
            } else {
                Err(format!("the SMS gateway answered {}", answer.status()))
            }
        })
    }
}
