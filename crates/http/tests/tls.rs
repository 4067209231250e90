//! HTTPS from PEM files: a client that trusts the certificate is served; the files are read
//! again on demand, new connections get the new certificate, and one made before keeps
//! going.

use axum::Router;
use axum::routing::get;
use ordo_http::serve::{Draining, ServeOptions, serve};
use ordo_http::tls::Tls;
use ordo_testkit::{certificate, tls_connect as connect};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Asks for `/hello` on `stream`, kept alive, and reads the answer.
async fn hello(stream: &mut TlsStream<TcpStream>) -> String {
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    while !String::from_utf8_lossy(&answer).ends_with("hello") {
        let mut chunk = [0u8; 1024];
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(
            read > 0,
            "the server hung up: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&chunk[..read]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn https_is_served_and_the_certificate_is_read_again_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    let first = certificate(dir.path());
    let tls = Tls::load(&dir.path().join("cert.pem"), &dir.path().join("key.pem")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(10),
        drain_delay: Duration::ZERO,
        grace: Duration::from_secs(10),
        tls: Some(tls.clone()),
        max_connections: 1_000,
    };
    let router = Router::new().route("/hello", get(|| async { "hello" }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        listener,
        router,
        options,
        Draining::default(),
        async {
            let _ = stopped.await;
        },
    ));

    let mut before = connect(address, &first).await.unwrap();
    assert!(hello(&mut before).await.starts_with("HTTP/1.1 200"));

    let second = certificate(dir.path());
    tls.reload().unwrap();
    assert!(
        connect(address, &first).await.is_err(),
        "a new connection gets the new certificate"
    );
    let mut after = connect(address, &second).await.unwrap();
    assert!(hello(&mut after).await.starts_with("HTTP/1.1 200"));
    assert!(
        hello(&mut before).await.starts_with("HTTP/1.1 200"),
        "the connection made before keeps going"
    );

    std::fs::write(dir.path().join("key.pem"), "not a key").unwrap();
    assert!(tls.reload().is_err(), "a bad key is refused");
    let mut still = connect(address, &second).await.unwrap();
    assert!(
        hello(&mut still).await.starts_with("HTTP/1.1 200"),
        "and the one in use stays"
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
