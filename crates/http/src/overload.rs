//! Overload sheds, it never fails: a process serves at most so many connections at once, a
//! number below its open-files limit, so that the descriptors its databases, files and
//! outbound calls need are never taken by clients. A connection past the cap is answered
//! `503` with `Retry-After` (a problem document) and closed; requests already admitted go on.

use crate::Problem;
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// Descriptors kept from clients: SQLite files and their WAL, database and broker
/// connections, calls to other services, the search index's segments.
const RESERVE_AT_LEAST: u64 = 256;
/// Connections being told "503" at once; past that, a new one is closed at once.
const REFUSING_AT_ONCE: usize = 64;
/// How long a refused client has to read its answer.
const REFUSAL_WITHIN: Duration = Duration::from_secs(2);
/// When a refused client should come back.
const COME_BACK_IN: Duration = Duration::from_secs(1);

/// Raises the process's open-files soft limit to the hard one, once at start: the default
/// soft limit, often 1 024, is far below what a server is allowed.
pub fn raise_open_files_limit() {
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(maximum)) = (limit.current, limit.maximum)
        && current < maximum
    {
        let raised = Rlimit {
            current: Some(maximum),
            maximum: Some(maximum),
        };
        if let Err(error) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(%error, current, maximum, "cannot raise the open-files limit");
        }
    }
}

/// The open-files limit in force; `None` when unlimited.
#[must_use]
pub fn open_files_limit() -> Option<u64> {
    getrlimit(Resource::Nofile).current
}

/// The connections to serve at once under an open-files limit: all but a reserve of a
/// quarter of it (at least [`RESERVE_AT_LEAST`]). No limit: no cap but `configured`.
#[must_use]
pub fn connection_cap(open_files: Option<u64>, configured: Option<usize>) -> usize {
    let allowed = open_files.map_or(usize::MAX, |limit| {
        let reserve = (limit / 4).max(RESERVE_AT_LEAST);
        usize::try_from(limit.saturating_sub(reserve).max(16)).unwrap_or(usize::MAX)
    });
    configured.map_or(allowed, |configured| configured.min(allowed))
}

/// Admits connections up to the cap.
#[derive(Debug, Clone)]
pub struct Admission {
    open: Arc<Semaphore>,
    refusing: Arc<Semaphore>,
    cap: usize,
}

/// A connection's place: given back when the connection ends.
pub type Admitted = tokio::sync::OwnedSemaphorePermit;

impl Admission {
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Admission {
            open: Arc::new(Semaphore::new(cap.min(Semaphore::MAX_PERMITS))),
            refusing: Arc::new(Semaphore::new(REFUSING_AT_ONCE)),
            cap,
        }
    }

    #[must_use]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// A place for a new connection, or `None` past the cap.
    #[must_use]
    pub fn admit(&self) -> Option<Admitted> {
        self.open.clone().try_acquire_owned().ok()
    }

    /// Refuses `stream`: a plain HTTP client is told `503` with `Retry-After`; over TLS, or
    /// when many are being refused already, the connection is closed at once.
    pub fn refuse(&self, stream: TcpStream, plain: bool) {
        metrics::counter!("http_connections_refused_total").increment(1);
        let Ok(slot) = self.refusing.clone().try_acquire_owned() else {
            return;
        };
        if !plain {
            return;
        }
        tokio::spawn(async move {
            let _slot = slot;
            let _ = tokio::time::timeout(REFUSAL_WITHIN, tell_overloaded(stream)).await;
        });
    }
}

async fn tell_overloaded(mut stream: TcpStream) -> std::io::Result<()> {
    let problem = Problem::unavailable(
        "this server has as many connections as it can serve; try again shortly",
        COME_BACK_IN,
    );
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\nretry-after: {}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        crate::problem::CONTENT_TYPE,
        COME_BACK_IN.as_secs(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await?;
    // Read what the client sent until it closes: closing with its request unread would
    // reset the connection, and the client might never see the answer.
    let mut sink = [0_u8; 4096];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_get_all_but_a_reserve_of_the_open_files() {
        assert_eq!(connection_cap(Some(20_000), None), 15_000);
        assert_eq!(connection_cap(Some(1_024), None), 768);
        assert_eq!(connection_cap(Some(300), None), 44);
        assert_eq!(connection_cap(Some(100), None), 16);
        assert_eq!(connection_cap(Some(20_000), Some(500)), 500);
        assert_eq!(connection_cap(Some(1_024), Some(5_000)), 768);
        assert_eq!(connection_cap(None, Some(50)), 50);
    }

    #[tokio::test]
    async fn past_the_cap_a_connection_is_told_to_come_back() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let admission = Admission::new(1);
        let first = admission.admit().expect("a place for the first");
        assert!(admission.admit().is_none(), "none for the second");
        let mut client = TcpStream::connect(address).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        admission.refuse(stream, true);
        client
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("retry-after: 1"), "{answer}");
        assert!(answer.contains("\"status\":503"), "{answer}");
        drop(first);
        assert!(admission.admit().is_some(), "a place again once one closed");
    }
}
