//! PostgreSQL over TLS, as libpq's URL parameters ask for it: `sslmode=verify-full` with a
//! `sslrootcert` connects encrypted to a server whose certificate and name check out, and a
//! server signed by another authority is refused with the reason.

use ordo_db::{Db, params};
use ordo_testkit::Backend;

#[tokio::test]
async fn a_verified_connection_is_encrypted() {
    let Some(backend) = ordo_testkit::postgres_tls("a_verified_connection_is_encrypted") else {
        return;
    };
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "tls").await;
    let (ssl,): (bool,) = db
        .fetch_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            params![],
        )
        .await
        .unwrap();
    assert!(ssl, "the connection is not encrypted");
}

#[tokio::test]
async fn a_server_of_another_authority_is_refused() {
    let Some(Backend::Postgres { url, schema_prefix }) =
        ordo_testkit::postgres_tls("a_server_of_another_authority_is_refused")
    else {
        return;
    };
    let dir = ordo_testkit::temp_dir();
    ordo_testkit::authority(dir.path());
    let (base, query) = url
        .split_once('?')
        .expect("sslmode and sslrootcert in the URL");
    let others: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.starts_with("sslrootcert="))
        .map(str::to_owned)
        .chain([format!(
            "sslrootcert={}",
            dir.path().join("ca.pem").display()
        )])
        .collect();
    let backend = Backend::Postgres {
        url: format!("{base}?{}", others.join("&")),
        schema_prefix,
    };
    let Err(error) = Db::connect(&backend.db_options(dir.path()), "tls").await else {
        panic!("a server the authority did not sign is refused");
    };
    let error = format!("{error:#}");
    assert!(error.contains("certificate"), "{error}");
}
