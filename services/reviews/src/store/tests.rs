//! The reviews store on both databases: a database of the release before native types, with
//! rows as it wrote them (text ids, instants in epoch milliseconds, JSON text), is migrated
//! and read back, and written on, through the store.

use crate::domain::{Purchase, Review, Status};
use crate::store::{self, Filter, Subject};
use ordo_contracts::reviews::RatingSummary;
use ordo_db::params;
use ordo_kernel::time::stored;
use ordo_testkit::{Backend, backend_test};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// An instant with sub-millisecond digits, which the tables drop.
const T: OffsetDateTime = datetime!(2026-03-01 12:00:00.123456789 UTC);

/// `T` moved by `secs` seconds.
fn at(secs: i64) -> OffsetDateTime {
    T + Duration::seconds(secs)
}

async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), crate::NAME, migrations)
        .await;
    let millis = |secs| ordo_kernel::time::to_millis(at(secs));
    let (customer, merchant) = (Uuid::now_v7(), Uuid::now_v7());
    let (completed, open, review) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (soup, bread) = (Uuid::now_v7(), Uuid::now_v7());
    for (order, completed_at) in [(completed, Some(millis(0))), (open, None)] {
        db.execute(
            "INSERT INTO purchases (order_id, customer_id, merchant_id, product_ids, completed_at)
             VALUES ($1, $2, $3, $4, $5)",
            params![
                order.to_string(),
                customer.to_string(),
                merchant.to_string(),
                serde_json::to_string(&[soup, bread]).unwrap(),
                completed_at,
            ],
        )
        .await
        .unwrap();
    }
    db.execute(
        "INSERT INTO reviews (id, order_id, customer_id, merchant_id, rating, comment, status,
             answer, answered_at, created_at, decided_at)
         VALUES ($1, $2, $3, $4, 4, 'Warm soup', 'approved', 'Thanks', $5, $6, $7)",
        params![
            review.to_string(),
            completed.to_string(),
            customer.to_string(),
            merchant.to_string(),
            millis(20),
            millis(10),
            millis(15),
        ],
    )
    .await
    .unwrap();
    for product in [soup, bread] {
        db.execute(
            "INSERT INTO review_products (product_id, review_id) VALUES ($1, $2)",
            params![product.to_string(), review.to_string()],
        )
        .await
        .unwrap();
    }
    for (kind, subject) in [
        ("merchant", merchant),
        ("product", soup),
        ("product", bread),
    ] {
        db.execute(
            "INSERT INTO ratings (kind, subject_id, count, total) VALUES ($1, $2, 1, 4)",
            params![kind, subject.to_string()],
        )
        .await
        .unwrap();
    }

    db.migrate(migrations).await.unwrap();

    assert_eq!(
        store::purchase(&db, completed).await.unwrap(),
        Some(Purchase {
            order_id: completed,
            customer_id: customer,
            merchant_id: merchant,
            product_ids: vec![soup, bread],
            completed: true,
        })
    );
    assert!(!store::purchase(&db, open).await.unwrap().unwrap().completed);
    let expected = Review {
        id: review,
        order_id: completed,
        customer_id: customer,
        merchant_id: merchant,
        product_ids: vec![soup, bread],
        rating: 4,
        comment: Some("Warm soup".into()),
        status: Status::Approved,
        answer: Some("Thanks".into()),
        answered_at: Some(stored(at(20))),
        created_at: stored(at(10)),
    };
    assert_eq!(
        store::find(&db, review).await.unwrap(),
        Some(expected.clone())
    );
    for filter in [
        Filter::Status(Status::Approved),
        Filter::Merchant(merchant),
        Filter::Product(bread),
    ] {
        assert_eq!(
            store::page(&db, filter, None, 10).await.unwrap(),
            std::slice::from_ref(&expected),
            "{filter:?}"
        );
    }
    let (decided_at,): (Option<OffsetDateTime>,) = db
        .fetch_one(
            "SELECT decided_at FROM reviews WHERE id = $1",
            params![review],
        )
        .await
        .unwrap();
    assert_eq!(decided_at, Some(stored(at(15))));
    assert_eq!(
        store::rating(&db, Subject::Product(soup)).await.unwrap(),
        RatingSummary {
            average: 4.0,
            count: 1
        }
    );

    // The converted rows take the store's writes.
    let mut tx = db.begin().await.unwrap();
    store::complete_purchase(&mut tx, open, at(30))
        .await
        .unwrap();
    store::count_rating(&mut tx, Subject::Merchant(merchant), 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(store::purchase(&db, open).await.unwrap().unwrap().completed);
    assert_eq!(
        store::rating(&db, Subject::Merchant(merchant))
            .await
            .unwrap(),
        RatingSummary {
            average: 3.0,
            count: 2
        }
    );
}
backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
