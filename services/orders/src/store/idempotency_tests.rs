//! Idempotency keys on both databases: claimed once, a second request with the same key
//! waits (running), is refused (other body) or gets the stored answer (done); a claim left
//! by a dead request is taken over with the order id it had, so its stock is found again;
//! only the checkout that holds the claim now may complete or release it.

use crate::store::idempotency::{self, Claim, Held, StaleClaim};
use ordo_kernel::time::stored;
use ordo_testkit::{Backend, backend_test};
use std::time::Duration;
use uuid::Uuid;

async fn keys_are_claimed_once(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "orders").await;
    db.migrate(crate::migrations()).await.unwrap();
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
    let fresh = |order_id, at| Claim::Claimed {
        held: Held {
            order_id,
            since: stored(at),
        },
        resumed: false,
    };
    let first = Uuid::now_v7();

    assert_eq!(
        claim(customer, "k1", "h1", first, now).await,
        fresh(first, now)
    );
    let running = claim(customer, "k1", "h1", Uuid::now_v7(), now).await;
    assert_eq!(running, Claim::Running, "the first is still running");
    let other_body = claim(customer, "k1", "h2", Uuid::now_v7(), now).await;
    assert_eq!(other_body, Claim::OtherRequest);
    let elsewhere = Uuid::now_v7();
    let other_customer = claim(Uuid::now_v7(), "k1", "h1", elsewhere, now).await;
    assert_eq!(
        other_customer,
        fresh(elsewhere, now),
        "keys belong to one customer"
    );

    // Only the checkout holding the claim completes it.
    let holder = Held {
        order_id: first,
        since: stored(now),
    };
    let strangers = [
        Held {
            order_id: Uuid::now_v7(),
            ..holder
        },
        Held {
            since: stored(now - Duration::from_secs(1)),
            ..holder
        },
    ];
    let mut tx = db.begin().await.unwrap();
    let mut batch = tx.batch();
    let done_by_strangers = strangers
        .iter()
        .map(|stranger| idempotency::complete(&mut batch, customer, "k1", stranger, 201, "{}"))
        .collect::<Vec<_>>();
    let done = idempotency::complete(&mut batch, customer, "k1", &holder, 201, "{\"id\":1}");
    let changed = tx.run(batch).await.unwrap();
    for by_stranger in done_by_strangers {
        assert_eq!(changed.rows(by_stranger), 0);
    }
    assert_eq!(changed.rows(done), 1);
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

    // A claim whose request died is taken over after a while, by the same request only,
    // with the order id the dead one reserved for.
    let dead_order = Uuid::now_v7();
    let dead = Held {
        order_id: dead_order,
        since: stored(now),
    };
    assert_eq!(
        claim(customer, "k2", "h1", dead_order, now).await,
        fresh(dead_order, now)
    );
    let later = now + Duration::from_secs(30);
    let stale = idempotency::stale(&db, later - Duration::from_secs(10), 10);
    let found = stale.await.unwrap();
    assert!(found.contains(&StaleClaim {
        customer_id: customer,
        key: "k2".into(),
        held: dead,
    }));
    let other_body = claim(customer, "k2", "h2", Uuid::now_v7(), later).await;
    assert_eq!(other_body, Claim::OtherRequest);
    let retry = Held {
        order_id: dead_order,
        since: stored(later),
    };
    let taken = claim(customer, "k2", "h1", Uuid::now_v7(), later).await;
    assert_eq!(
        taken,
        Claim::Claimed {
            held: retry,
            resumed: true
        }
    );
    let again = claim(customer, "k2", "h1", Uuid::now_v7(), later).await;
    assert_eq!(again, Claim::Running, "the retry's claim is fresh");

    // The dead request can neither complete nor release what is now the retry's claim,
    // though the order id is the same.
    let mut tx = db.begin().await.unwrap();
    let mut batch = tx.batch();
    let late = idempotency::complete(&mut batch, customer, "k2", &dead, 201, "{}");
    assert_eq!(tx.run(batch).await.unwrap().rows(late), 0);
    let late = idempotency::release(&mut tx, customer, "k2", &dead);
    assert!(!late.await.unwrap());
    // The holder releases it: the key is free again, for a new order id.
    let released = idempotency::release(&mut tx, customer, "k2", &retry);
    assert!(released.await.unwrap());
    tx.commit().await.unwrap();
    let next = Uuid::now_v7();
    assert_eq!(
        claim(customer, "k2", "h3", next, later).await,
        fresh(next, later)
    );
}

backend_test!(idempotency_keys, keys_are_claimed_once);
