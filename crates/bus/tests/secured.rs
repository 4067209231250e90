//! The bus through brokers that check who talks to them. NATS: a user and password in the
//! URL, TLS with the server's certificate checked against the test's authority, and a
//! client certificate. Kafka: SASL/SCRAM-SHA-512 as far as tansu checks it (it verifies
//! SCRAM against the credentials it stores, and has none here). With a wrong password the
//! bus runs, is not verified, and says why, without the secret.

use ordo_bus::{Bus, BusOptions, EventMeta, HandlerError, NatsSecurity, Subscription};
use ordo_contracts::Event;
use ordo_kernel::Secret;
use ordo_testkit::{SecuredNats, Tansu};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Serialize, Deserialize)]
struct Rang {
    n: u32,
}

impl Event for Rang {
    const TYPE: &'static str = "bell.rang";
    const VERSION: u32 = 1;
    const SOURCE: &'static str = "belfry";
}

fn options(server: &SecuredNats, password: &str) -> BusOptions {
    let unique = ordo_testkit::unique_prefix();
    BusOptions {
        url: Some(server.url_with(password)),
        stream: format!("S_{unique}"),
        subject_prefix: unique,
        nats: NatsSecurity {
            tls_ca_file: Some(server.file("ca.pem")),
            tls_cert_file: Some(server.file("client-cert.pem")),
            tls_key_file: Some(server.file("client-key.pem")),
            ..NatsSecurity::default()
        },
        retry_base: Duration::from_millis(5),
        retry_max: Duration::from_millis(200),
        poll_interval: Duration::from_millis(50),
        ..BusOptions::default()
    }
}

async fn database(dir: &std::path::Path, service: &str) -> ordo_db::Db {
    let db = ordo_testkit::Backend::Sqlite.open(dir, service).await;
    db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
        .await
        .expect("bus migrations");
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_flow_through_a_nats_server_that_checks_who_talks_to_it() {
    let Some(server) = SecuredNats::start("events_flow_through_a_secured_nats").await else {
        return;
    };
    let dir = ordo_testkit::temp_dir();
    let (producer, consumer) = (
        database(dir.path(), "belfry").await,
        database(dir.path(), "ringer").await,
    );
    let options = options(&server, SecuredNats::PASSWORD);
    let mut bus = Bus::new(options.clone());
    let outbox = bus.outbox("belfry", producer.clone());
    let heard = Arc::new(AtomicU64::new(0));
    let stats = bus
        .subscribe(Subscription::new("ringer-bells", consumer).on(
            &heard,
            |heard, _, rang: Rang, _| {
                heard.fetch_add(u64::from(rang.n), Ordering::SeqCst);
                Box::pin(async { Ok::<(), HandlerError>(()) })
            },
        ))
        .unwrap();
    let running = bus.start().await.expect("the bus starts");
    let mut tx = producer.begin().await.unwrap();
    outbox
        .append(&mut tx, "bell-1", &Rang { n: 7 }, &EventMeta::default())
        .await
        .unwrap();
    outbox.commit(tx).await.unwrap();
    ordo_testkit::until(&options.progress, "the event is handled", || async {
        stats.handled() == 1
    })
    .await;
    assert_eq!(heard.load(Ordering::SeqCst), 7);
    assert!(options.health.verified());
    running.stop(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_leave_the_bus_unverified_saying_why() {
    let Some(server) = SecuredNats::start("wrong_credentials_leave_the_bus_unverified").await
    else {
        return;
    };
    let reason = refusal(
        options(&server, "not-the-password-93b1"),
        "authorization violation",
    )
    .await;
    assert!(!reason.contains("not-the-password"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_broker_refusing_the_credentials_leaves_the_bus_unverified_saying_why() {
    let Some((tansu, _proxy)) = Tansu::authenticating("a_kafka_broker_refusing").await else {
        return;
    };
    let sasl = [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", "ordo"),
        ("sasl.password", "not-the-password-5c0e"),
    ];
    let options = BusOptions {
        url: Some(tansu.url()),
        subject_prefix: ordo_testkit::unique_prefix(),
        kafka: sasl
            .into_iter()
            .map(|(key, value)| (key.to_owned(), Secret::new(value.to_owned())))
            .collect(),
        retry_base: Duration::from_millis(5),
        retry_max: Duration::from_millis(200),
        ..BusOptions::default()
    };
    let reason = refusal(options, "refused").await;
    assert!(reason.contains("SCRAM"), "{reason}");
    assert!(!reason.contains("not-the-password"), "{reason}");
}

/// Starts a bus with `options` that its broker refuses; returns why it says it cannot
/// publish, once that says `what`.
async fn refusal(options: BusOptions, what: &str) -> String {
    let dir = ordo_testkit::temp_dir();
    let mut bus = Bus::new(options.clone());
    bus.outbox("belfry", database(dir.path(), "belfry").await);
    let running = bus.start().await.expect("the bus starts all the same");
    let health = options.health.clone();
    ordo_testkit::until(health.reported(), "the refusal is reported", || async {
        health.reason().is_some_and(|reason| reason.contains(what))
    })
    .await;
    assert!(!health.verified(), "nothing is published");
    running.stop(Duration::from_secs(10)).await;
    health.reason().unwrap_or_default()
}
