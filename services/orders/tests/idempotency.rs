//! Idempotency keys on both databases: claimed once, a second request with the same key
//! waits (running), is refused (other body) or gets the stored answer (done); a claim left
//! by a dead request is taken over, and names the order id whose stock must go back; only
//! the checkout that holds the claim may complete or release it.

use ordo_orders::store::idempotency::{self, Claim, StaleClaim};
use ordo_testkit::{Backend, backend_test};
use std::time::Duration;
use uuid::Uuid;

async fn keys_are_claimed_once(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "orders").await;
    db.migrate(ordo_orders::migrations()).await.unwrap();
    let customer = Uuid::now_v7();
    let now = ordo_kernel::time::now();
    let claim = |customer: Uuid, key: &'static str, hash: &'static str, order: Uuid, at| {
        let db = db.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            let claim = idempotency::claim(
                &mut tx,
                customer,
                key,
                hash,
                order,
                at,
                at - Duration::from_secs(10),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            claim
        }
    };
    let fresh = Claim::Claimed { abandoned: None };
    let first = Uuid::now_v7();

    assert_eq!(claim(customer, "k1", "h1", first, now).await, fresh);
    let running = claim(customer, "k1", "h1", Uuid::now_v7(), now).await;
    assert_eq!(running, Claim::Running, "the first is still running");
    let other_body = claim(customer, "k1", "h2", Uuid::now_v7(), now).await;
    assert_eq!(other_body, Claim::OtherRequest);
    let other_customer = claim(Uuid::now_v7(), "k1", "h1", Uuid::now_v7(), now).await;
    assert_eq!(other_customer, fresh, "keys belong to one customer");

    // Only the checkout holding the claim completes it.
    let mut tx = db.begin().await.unwrap();
    let stranger = idempotency::complete(&mut *tx, customer, "k1", Uuid::now_v7(), 201, "{}");
    assert!(!stranger.await.unwrap());
    let holder = idempotency::complete(&mut *tx, customer, "k1", first, 201, "{\"id\":1}");
    assert!(holder.await.unwrap());
    tx.commit().await.unwrap();
    let replay = Claim::Done {
        status: 201,
        body: "{\"id\":1}".into(),
    };
    assert_eq!(
        claim(customer, "k1", "h1", Uuid::now_v7(), now).await,
        replay
    );
    let other_body = claim(customer, "k1", "h2", Uuid::now_v7(), now).await;
    assert_eq!(other_body, Claim::OtherRequest);

    // A claim whose request died is taken over after a while, by the same request only;
    // the taker learns which order id the dead one reserved for.
    let dead = Uuid::now_v7();
    assert_eq!(claim(customer, "k2", "h1", dead, now).await, fresh);
    let later = now + Duration::from_secs(30);
    let stale = idempotency::stale(db.reader(), later - Duration::from_secs(10), 10);
    let found = stale.await.unwrap();
    assert!(found.contains(&StaleClaim {
        customer_id: customer,
        key: "k2".into(),
        order_id: dead,
    }));
    let other_body = claim(customer, "k2", "h2", Uuid::now_v7(), later).await;
    assert_eq!(other_body, Claim::OtherRequest);
    let retry = Uuid::now_v7();
    let taken = claim(customer, "k2", "h1", retry, later).await;
    assert_eq!(
        taken,
        Claim::Claimed {
            abandoned: Some(dead)
        }
    );

    // The dead request can neither complete nor release what is no longer its claim.
    let mut tx = db.begin().await.unwrap();
    let late = idempotency::complete(&mut *tx, customer, "k2", dead, 201, "{}");
    assert!(!late.await.unwrap());
    assert!(
        !idempotency::release(&mut *tx, customer, "k2", dead)
            .await
            .unwrap()
    );
    // The holder releases it: the key is free again.
    assert!(
        idempotency::release(&mut *tx, customer, "k2", retry)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        claim(customer, "k2", "h3", Uuid::now_v7(), later).await,
        fresh
    );
}

backend_test!(idempotency_keys, keys_are_claimed_once);
