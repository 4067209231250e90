//! Idempotency keys on both databases: claimed once, a second request with the same key
//! waits (running), is refused (other body) or gets the stored answer (done); a claim left
//! by a dead process is taken over.

use ordo_orders::store::idempotency::{self, Claim};
use ordo_testkit::{Backend, backend_test};
use std::time::Duration;
use uuid::Uuid;

async fn keys_are_claimed_once(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "orders").await;
    db.migrate(ordo_orders::migrations()).await.unwrap();
    let customer = Uuid::now_v7();
    let now = ordo_kernel::time::now();
    let stale = now - Duration::from_secs(60);
    let claim = |key: &'static str, hash: &'static str, at: time::OffsetDateTime| {
        let db = db.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            let claim = idempotency::claim(
                &mut tx,
                customer,
                key,
                hash,
                at,
                at - Duration::from_secs(60),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            claim
        }
    };

    assert_eq!(claim("k1", "h1", now).await, Claim::Claimed);
    assert_eq!(
        claim("k1", "h1", now).await,
        Claim::Running,
        "the first is still running"
    );
    assert_eq!(claim("k1", "h2", now).await, Claim::OtherRequest);
    let other_customer = {
        let mut tx = db.begin().await.unwrap();
        let claim = idempotency::claim(&mut tx, Uuid::now_v7(), "k1", "h1", now, stale)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        claim
    };
    assert_eq!(
        other_customer,
        Claim::Claimed,
        "keys belong to one customer"
    );

    let mut tx = db.begin().await.unwrap();
    idempotency::complete(&mut tx, customer, "k1", 201, "{\"id\":1}")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        claim("k1", "h1", now).await,
        Claim::Done {
            status: 201,
            body: "{\"id\":1}".into()
        }
    );
    assert_eq!(claim("k1", "h2", now).await, Claim::OtherRequest);

    // A claim whose process died is taken over after a minute, by the same request only.
    assert_eq!(claim("k2", "h1", now).await, Claim::Claimed);
    let later = now + Duration::from_secs(120);
    assert_eq!(claim("k2", "h2", later).await, Claim::OtherRequest);
    assert_eq!(claim("k2", "h1", later).await, Claim::Claimed);

    // A released key is free again.
    let mut tx = db.begin().await.unwrap();
    idempotency::release(&mut *tx, customer, "k2")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claim("k2", "h3", later).await, Claim::Claimed);
}

backend_test!(idempotency_keys, keys_are_claimed_once);
