//! `ordo probe`: a container's health check. The image holds nothing but the binary (no
//! shell, no curl), so the binary asks its own process: one HTTP/1.1 request to `/readyz`
//! (or `/healthz`) on the configured listening address, over TLS when the process serves
//! HTTPS, trusting exactly the certificate it serves (its name need not be the loopback
//! address the probe dials).

use crate::config::Config;
use anyhow::{Context, bail};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme,
};

/// A health check that takes longer than this is a failure: the orchestrator asks again.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Enough of the answer to say why it is not ready (`/readyz` names what is down).
const ANSWER_LIMIT: u64 = 16 * 1024;

/// Exits successfully when the process answers 200; otherwise the error says what it
/// answered, or why nothing answered.
pub async fn probe(config: &Config, live: bool) -> anyhow::Result<()> {
    let address = own_address(config.listen);
    let path = if live { "/healthz" } else { "/readyz" };
    let scheme = if config.http.tls_cert_file.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{address}{path}");
    let answer = tokio::time::timeout(TIMEOUT, ask(config, address, path))
        .await
        .with_context(|| format!("{url} did not answer within {} s", TIMEOUT.as_secs()))?
        .with_context(|| format!("{url} could not be asked"))?;
    let status = answer.lines().next().unwrap_or_default();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default().trim();
    match status.split_whitespace().nth(1) {
        Some("200") => {
            println!("{url}: {status}");
            Ok(())
        }
        _ => bail!("{url} answered {status}: {body}"),
    }
}

/// A wildcard listening address is reached on loopback.
fn own_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

async fn ask(config: &Config, address: SocketAddr, path: &str) -> anyhow::Result<String> {
    let stream = TcpStream::connect(address).await?;
    match &config.http.tls_cert_file {
        None => exchange(stream, path).await,
        Some(certificate) => {
            let verifier = Pinned::from_file(certificate)?;
            let tls = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            let name = ServerName::IpAddress(address.ip().into());
            let stream = TlsConnector::from(Arc::new(tls))
                .connect(name, stream)
                .await?;
            exchange(stream, path).await
        }
    }
}

async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    path: &str,
) -> anyhow::Result<String> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ordo-probe\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.take(ANSWER_LIMIT).read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// Trusts the one certificate the process serves: the probe runs beside it, reads the
/// same file, and dials an address the certificate does not name.
#[derive(Debug)]
struct Pinned {
    certificate: CertificateDer<'static>,
    provider: CryptoProvider,
}

impl Pinned {
    fn from_file(path: &Path) -> anyhow::Result<Pinned> {
        let certificate = CertificateDer::pem_file_iter(path)
            .and_then(|mut chain| chain.next().transpose())
            .with_context(|| format!("reading {}", path.display()))?
            .with_context(|| format!("{} holds no certificate", path.display()))?;
        Ok(Pinned {
            certificate,
            provider: ring::default_provider(),
        })
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.certificate.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::own_address;

    #[test]
    fn a_wildcard_listener_is_asked_on_loopback() {
        for (listen, asked) in [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:9000", "[::1]:9000"),
            ("10.1.2.3:8080", "10.1.2.3:8080"),
        ] {
            assert_eq!(own_address(listen.parse().unwrap()).to_string(), asked);
        }
    }
}
