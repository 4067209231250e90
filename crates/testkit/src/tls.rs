//! A certificate authority of one test's own, for servers the test starts with TLS.

use std::path::Path;

/// Makes a certificate authority in `dir` and, signed by it, the server's certificate (for
/// 127.0.0.1 and localhost) and a client's.
pub fn authority(dir: &Path) {
    let write = |name: &str, pem: String| {
        std::fs::write(dir.join(name), pem).unwrap_or_else(|e| panic!("{name} written: {e}"));
    };
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "ordo test authority");
    write(
        "ca.pem",
        ca.self_signed(&ca_key).expect("the CA certificate").pem(),
    );
    let issuer = rcgen::Issuer::new(ca, ca_key);
    for (name, names) in [
        (
            "server",
            vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
        ),
        ("client", vec!["ordo-client".to_owned()]),
    ] {
        let key = rcgen::KeyPair::generate().expect("a key");
        let cert = rcgen::CertificateParams::new(names)
            .expect("certificate parameters")
            .signed_by(&key, &issuer)
            .expect("a signed certificate");
        write(&format!("{name}-cert.pem"), cert.pem());
        write(&format!("{name}-key.pem"), key.serialize_pem());
    }
}
