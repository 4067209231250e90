//! Serving a router on a listener: header-read timeout against slow clients, the peer
//! address for rate limits, and graceful shutdown — readiness fails first, the listener
//! stops, in-flight requests finish (up to a grace period).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// A client must send its request headers within this time.
    pub header_read_timeout: Duration,
    /// Between readiness failing and the listener closing, so load balancers notice.
    pub drain_delay: Duration,
    /// How long in-flight requests may take to finish after the listener closes.
    pub grace: Duration,
}

/// Shared "we are shutting down" flag; `/readyz` reports not ready while it is set.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    pub fn start(&self) {
        self.0.store(true, Ordering::Release);
    }
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
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            },
        );
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = watched.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
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
