//! Serving a router on a listener, over HTTPS when a certificate is given (`crate::tls`):
//! header-read timeout against slow clients, the peer address for rate limits, and graceful
//! shutdown — readiness fails first, the listener stops, event streams end, in-flight
//! requests finish (up to a grace period).

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use futures_util::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A client must send its request headers within this time.
    pub header_read_timeout: Duration,
    /// Between readiness failing and the listener closing, so load balancers notice.
    pub drain_delay: Duration,
    /// How long in-flight requests may take to finish after the listener closes.
    pub grace: Duration,
    /// Serve HTTPS with this certificate, read again at every `SIGHUP`.
    pub tls: Option<Arc<crate::tls::Tls>>,
    /// Connections served at once; past it, new ones are refused (`crate::overload`).
    pub max_connections: usize,
}

/// Shared "we are shutting down" flag; `/readyz` reports not ready while it is set.
#[derive(Debug, Clone)]
pub struct Draining(Arc<watch::Sender<bool>>);

impl Default for Draining {
    fn default() -> Self {
        Draining(Arc::new(watch::Sender::new(false)))
    }
}

impl Draining {
    #[must_use]
    pub fn is_draining(&self) -> bool {
        *self.0.borrow()
    }

    pub fn start(&self) {
        self.0.send_replace(true);
    }

    /// Resolves once draining has started.
    pub async fn started(&self) {
        let mut watching = self.0.subscribe();
        // The sender lives in `self`, so the wait ends only by the flag turning true.
        let _ = watching.wait_for(|draining| *draining).await;
    }
}

/// A server-sent event stream never finishes by itself: it ends when draining starts, so that
/// shutdown waits for requests rather than for clients to hang up; they reconnect (to another
/// instance, or to this one restarted) with `Last-Event-ID`.
fn ending_at_drain(draining: &Draining, response: Response) -> Response {
    let stream = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
    if !stream {
        return response;
    }
    let draining = draining.clone();
    response.map(|body| {
        Body::from_stream(
            body.into_data_stream()
                .take_until(async move { draining.started().await }),
        )
    })
}

/// Serves until `shutdown` resolves, then drains.
///
/// # Errors
/// Never for a single bad connection; only if the listener itself fails irrecoverably.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    draining: Draining,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    let reloading = options
        .tls
        .clone()
        .map(|tls| tokio::spawn(crate::tls::reload_on_hangup(tls)));

    let admission = crate::overload::Admission::new(options.max_connections);
    tracing::info!(
        max_connections = admission.cap(),
        "connections past this many are answered 503"
    );
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(admitted) = admission.admit() else {
            admission.refuse(stream, options.tls.is_none());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let ending = draining.clone();
        let service = router
            .clone()
            .map_request(
                move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    request
                },
            )
            .map_response(move |response| ending_at_drain(&ending, response));
        let service = TowerToHyperService::new(service);
        let Some(tls) = &options.tls else {
            let watched = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                let _admitted = admitted;
                if let Err(error) = watched.await {
                    tracing::debug!(%error, %peer, "connection ended with an error");
                }
            });
            continue;
        };
        // The handshake in the connection's own task, within the time its headers have.
        let (acceptor, http, watcher) = (tls.acceptor(), http.clone(), graceful.watcher());
        let handshake_within = options.header_read_timeout;
        tokio::spawn(async move {
            let _admitted = admitted;
            let stream = match tokio::time::timeout(handshake_within, acceptor.accept(stream)).await
            {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(%error, %peer, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake too slow");
                    return;
                }
            };
            let connection = http.serve_connection(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    if let Some(reloading) = reloading {
        reloading.abort();
    }

    draining.start();
    tracing::info!("shutting down: readiness now fails");
    tokio::time::sleep(options.drain_delay).await;
    drop(listener);
    if tokio::time::timeout(options.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = options.grace.as_secs(),
            "some requests did not finish in time"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::sse::{Event, Sse};
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn an_event_stream_ends_when_draining_starts() {
        let router = Router::new().route(
            "/events",
            get(|| async {
                Sse::new(futures_util::stream::pending::<
                    Result<Event, std::convert::Infallible>,
                >())
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = ServeOptions {
            header_read_timeout: Duration::from_secs(5),
            drain_delay: Duration::ZERO,
            grace: Duration::from_secs(3600),
            tls: None,
            max_connections: 1_000,
        };
        let server = tokio::spawn(serve(
            listener,
            router,
            options,
            Draining::default(),
            async {
                let _ = stopped.await;
            },
        ));
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        client
            .write_all(b"GET /events HTTP/1.1\r\nhost: test\r\n\r\n")
            .await
            .unwrap();
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut chunk = [0u8; 512];
            let read = client.read(&mut chunk).await.unwrap();
            assert!(read > 0, "the server hung up before the stream's headers");
            head.extend_from_slice(&chunk[..read]);
        }
        assert!(String::from_utf8_lossy(&head).contains("text/event-stream"));

        stop.send(()).unwrap();
        // With an hour's grace, the server returns within the minute only if the stream
        // ended when draining started.
        let served = tokio::time::timeout(Duration::from_secs(60), server).await;
        assert!(served.is_ok(), "shutdown waited on the event stream");
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(
            rest.ends_with(b"0\r\n\r\n"),
            "the stream was ended, not cut: {}",
            String::from_utf8_lossy(&rest)
        );
    }
}
