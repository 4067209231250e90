//! The link to NATS JetStream and what its guard verifies: the stream. The bus starts
//! without the broker and connects when it comes; when the broker comes back without the
//! stream, the guard creates it again and re-sends the resend window (`link`).

use crate::BusError;
use crate::link::{self, Link, Signals, Verify};
use crate::options::BusOptions;
use crate::outbox::Outbox;
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::{self, ErrorCode, stream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// How long the broker remembers message ids to drop repeats.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Shared by the relays, the consumers and the guard of one bus; cheap to clone.
#[derive(Clone)]
pub(crate) struct Broker {
    client: async_nats::Client,
    js: jetstream::Context,
    options: BusOptions,
    outboxes: Vec<Outbox>,
    signals: Signals,
    /// Why the last connection attempt failed, until one succeeds.
    refused: Arc<Mutex<Option<String>>>,
}

impl Broker {
    /// Connects in the background: this returns at once, whether the broker is up or not.
    /// Why it cannot connect (refused credentials, a certificate not trusted) is logged and
    /// given to readiness; the secrets never are.
    pub(crate) async fn connect(
        url: &str,
        options: &BusOptions,
        outboxes: Vec<Outbox>,
    ) -> Result<Broker, BusError> {
        let signals = Signals::new();
        let refused = Arc::new(Mutex::new(None));
        let (servers, credentials) = servers(url)?;
        let (events, health, why) = (signals.clone(), options.health.clone(), refused.clone());
        let mut connect = async_nats::ConnectOptions::new()
            .name("ordo")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .event_callback(move |event| {
                match event {
                    async_nats::Event::Disconnected => {
                        tracing::warn!("disconnected from NATS");
                        health.failing(&"disconnected from NATS");
                        events.suspect();
                    }
                    async_nats::Event::Connected => {
                        tracing::info!("connected to NATS");
                        *why.lock().unwrap_or_else(PoisonError::into_inner) = None;
                        events.suspect();
                    }
                    async_nats::Event::ClientError(error) => {
                        let reason = format!("cannot connect to NATS: {error}");
                        tracing::warn!("{reason}");
                        health.failing(&reason);
                        *why.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
                    }
                    async_nats::Event::ServerError(error) => {
                        tracing::warn!(%error, "NATS reports an error");
                    }
                    _ => {}
                }
                std::future::ready(())
            });
        connect = match credentials {
            Some(Credentials::UserAndPassword(user, password)) => {
                connect.user_and_password(user, password)
            }
            Some(Credentials::Token(token)) => connect.token(token),
            None => connect,
        };
        let security = &options.nats;
        if let Some(path) = &security.credentials_file {
            connect = connect.credentials_file(path).await.map_err(|e| {
                BusError::Nats(format!(
                    "cannot read the credentials file {}: {e}",
                    path.display()
                ))
            })?;
        }
        if let Some(path) = &security.tls_ca_file {
            connect = connect.add_root_certificates(path.clone());
        }
        match (&security.tls_cert_file, &security.tls_key_file) {
            (Some(cert), Some(key)) => {
                connect = connect.add_client_certificate(cert.clone(), key.clone());
            }
            (None, None) => {}
            _ => {
                return Err(BusError::Nats(
                    "a client certificate needs both its certificate and its key file".into(),
                ));
            }
        }
        let tls =
            security.tls_required || security.tls_ca_file.is_some() || url.starts_with("tls://");
        let client = connect
            .require_tls(tls)
            .connect(servers)
            .await
            .map_err(|e| BusError::Nats(format!("cannot connect: {e}")))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .build(client.clone());
        Ok(Broker {
            client,
            js,
            options: options.clone(),
            outboxes,
            signals,
            refused,
        })
    }

    pub(crate) fn js(&self) -> &jetstream::Context {
        &self.js
    }

    /// The connection, for core subjects beside the stream.
    pub(crate) fn client(&self) -> async_nats::Client {
        self.client.clone()
    }

    /// The first token of every subject this bus uses.
    pub(crate) fn prefix(&self) -> &str {
        &self.options.subject_prefix
    }

    pub(crate) fn watch(&self) -> watch::Receiver<Link> {
        self.signals.watch()
    }

    pub(crate) fn signals(&self) -> &Signals {
        &self.signals
    }

    /// Keeps the stream there until `stop`.
    pub(crate) async fn guard(self, stop: watch::Receiver<bool>) {
        let (signals, options) = (self.signals.clone(), self.options.clone());
        let stream = Stream {
            broker: self,
            known: None,
        };
        signals
            .guard(stream, "the NATS stream", options, stop)
            .await;
    }

    /// Why the broker cannot be used now: not connected (and why, when it said so).
    fn unusable(&self) -> Option<String> {
        if self.client.connection_state() == async_nats::connection::State::Connected {
            return None;
        }
        let refused = self
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Some(refused.unwrap_or_else(|| "not connected to NATS".to_owned()))
    }

    /// Creates the stream, or updates it to the configured limits; returns when it was made.
    async fn create_or_update(&self) -> Result<OffsetDateTime, BusError> {
        let info = self
            .js
            .create_or_update_stream(stream::Config {
                name: self.options.stream.clone(),
                subjects: vec![format!("{}.>", self.options.subject_prefix)],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                max_age: self.options.stream_max_age,
                num_replicas: self.options.stream_replicas,
                duplicate_window: DUPLICATE_WINDOW,
                ..Default::default()
            })
            .await
            .map_err(|e| {
                BusError::Nats(format!(
                    "cannot create the stream {}: {e}",
                    self.options.stream
                ))
            })?;
        Ok(info.created)
    }
}

/// The stream as the guard knows it: when it was created.
struct Stream {
    broker: Broker,
    known: Option<OffsetDateTime>,
}

impl Verify for Stream {
    /// Finds the stream, or creates it; when it is not the one known before (or had to be
    /// created), re-sends the window.
    async fn verify(&mut self) -> Result<bool, BusError> {
        let broker = &self.broker;
        if let Some(reason) = broker.unusable() {
            return Err(BusError::Nats(reason));
        }
        let name = &broker.options.stream;
        let (created, found) = match broker.js.get_stream(name).await {
            Ok(stream) if self.known.is_some() => (stream.cached_info().created, true),
            // At start, the configured limits are applied to the stream found.
            Ok(_) => (broker.create_or_update().await?, true),
            Err(error) => match error.kind() {
                GetStreamErrorKind::JetStream(error)
                    if error.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                {
                    (broker.create_or_update().await?, false)
                }
                _ => {
                    return Err(BusError::Nats(format!(
                        "cannot look at the stream {name}: {error}"
                    )));
                }
            },
        };
        if self.known == Some(created) {
            return Ok(false);
        }
        let renewed = self.known.is_some();
        if renewed {
            tracing::warn!(stream = %name, "the NATS stream was lost; sending recent events again");
            metrics::counter!("bus_stream_recreated_total").increment(1);
        } else if found {
            self.known = Some(created);
            return Ok(false);
        } else {
            // A first start, or a broker that lost the stream while this process was down.
            tracing::info!(stream = %name, "created the NATS stream; sending recent events to it");
        }
        for outbox in &broker.outboxes {
            link::resend(outbox, &broker.options).await?;
        }
        self.known = Some(created);
        Ok(renewed)
    }
}

/// Who the URL says the connection is.
#[derive(Debug, PartialEq, Eq)]
enum Credentials {
    UserAndPassword(String, String),
    Token(String),
}

/// The servers of `url` (`nats://[user:password@]host:port`, or several, comma-separated),
/// without the credentials, which the NATS client takes apart; the first given is used.
fn servers(url: &str) -> Result<(Vec<async_nats::ServerAddr>, Option<Credentials>), BusError> {
    let mut credentials = None;
    let mut servers = Vec::new();
    for server in url.split(',').map(str::trim) {
        let (scheme, rest) = server.split_once("://").unwrap_or(("nats", server));
        let address = match rest.rsplit_once('@') {
            Some((userinfo, address)) => {
                let decode = |text: &str| {
                    percent_encoding::percent_decode_str(text)
                        .decode_utf8_lossy()
                        .into_owned()
                };
                credentials.get_or_insert(match userinfo.split_once(':') {
                    Some((user, password)) => {
                        Credentials::UserAndPassword(decode(user), decode(password))
                    }
                    None => Credentials::Token(decode(userinfo)),
                });
                address
            }
            None => rest,
        };
        // Never the URL in the error: it may hold a password.
        let parsed = format!("{scheme}://{address}").parse().map_err(|_| {
            BusError::InvalidUrl(format!(
                "`{scheme}://{address}` is not a NATS server address"
            ))
        })?;
        servers.push(parsed);
    }
    Ok((servers, credentials))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_taken_out_of_the_url() {
        let (found, credentials) = servers("nats://ordo:p%40ss:w@a:4222,nats://b:4223").unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            credentials,
            Some(Credentials::UserAndPassword("ordo".into(), "p@ss:w".into()))
        );
        assert_eq!(found[0].host(), "a");
        assert!(!format!("{:?}", found[0]).contains("p@ss"));
        let (_, token) = servers("tls://s3cr3t@a:4222").unwrap();
        assert_eq!(token, Some(Credentials::Token("s3cr3t".into())));
        assert_eq!(servers("nats://a:4222").unwrap().1, None);
        let error = servers("nats://u:hunter2@a:port").unwrap_err().to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
