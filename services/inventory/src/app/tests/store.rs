//! The store across the change to native column types, on both databases: the stock and
//! reservations the release before wrote (ids as text, instants as epoch milliseconds, one
//! row of stock per product) read back and move the same once migrated, as slot 0.

use crate::domain::{DEFAULT_LOCATION, ReservationStatus, Stock};
use crate::store::{self, Level, Movement};
use ordo_db::params;
use ordo_testkit::{Backend, backend_test};
use std::time::Duration;
use uuid::Uuid;

const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    // The previous release ends at 0002: native types (0003) and stock slots (0004) came
    // after it.
    let db = backend
        .open_previous_release(dir.path(), "inventory", &migrations[..3])
        .await;
    let millis = ordo_kernel::time::to_millis;
    let now = ordo_kernel::time::now();
    let ago = |secs: u64| ordo_kernel::time::stored(now - Duration::from_secs(secs));
    let (product, merchant, order) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (held_at, expired_at) = (ago(900), ago(10));
    db.execute(
        "INSERT INTO stock (product_id, location, merchant_id, on_hand, reserved, updated_at)
         VALUES ($1, $2, $3, 5, 2, $4)",
        params![
            product.to_string(),
            DEFAULT_LOCATION,
            merchant.to_string(),
            millis(held_at)
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at, held_traceparent)
         VALUES ($1, 'held', $2, $3, $3, $4)",
        params![
            order.to_string(),
            millis(expired_at),
            millis(held_at),
            TRACE
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO reservation_lines (order_id, product_id, location, quantity) VALUES ($1, $2, $3, 2)",
        params![order.to_string(), product.to_string(), DEFAULT_LOCATION],
    )
    .await
    .unwrap();

    db.migrate(migrations).await.unwrap();
    assert_eq!(
        store::stock(&db, product).await.unwrap(),
        Some(Stock {
            on_hand: 5,
            reserved: 2,
            slots: 1
        })
    );
    let steps = store::reservation_steps(&db, order).await.unwrap().unwrap();
    assert_eq!(
        (
            steps.status,
            steps.units,
            steps.expires_at,
            steps.created_at,
            steps.updated_at
        ),
        (ReservationStatus::Held, 2, expired_at, held_at, held_at)
    );
    assert_eq!(
        (steps.held_traceparent.as_deref(), steps.moved_traceparent),
        (Some(TRACE), None)
    );
    assert_eq!(store::expired(&db, now, 10).await.unwrap(), vec![order]);
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        store::lines(&mut tx, order).await.unwrap(),
        vec![(product, 2)]
    );
    assert_eq!(
        store::apply(&mut tx, order, Movement::Commit, now)
            .await
            .unwrap(),
        vec![Level {
            product_id: product,
            merchant_id: merchant,
            available: 3
        }]
    );
    tx.commit().await.unwrap();
    assert_eq!(
        store::stock(&db, product).await.unwrap(),
        Some(Stock {
            on_hand: 3,
            reserved: 0,
            slots: 1
        })
    );
}

backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
