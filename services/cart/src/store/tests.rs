//! The cart's SQL store on both databases: lines add up within the most of one product and
//! read back in the order they were added; one merchant's products at a time; a line is
//! set, removed, taken out by what an order took, and the cart cleared, for one customer
//! alone; lines the release before native column types wrote read back the same once
//! migrated. Carts in Redis are `redis_carts`'s, tested in `redis_tests.rs`.

use super::Item;
use ordo_db::{Db, params};
use ordo_kernel::time::stored;
use ordo_testkit::{Backend, backend_test};
use std::path::Path;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// An instant with sub-millisecond digits, which the tables drop.
const T: OffsetDateTime = datetime!(2026-03-01 12:00:00.123456789 UTC);

const MAX: i64 = 10;

/// `T` moved by `secs` seconds.
fn at(secs: i64) -> OffsetDateTime {
    T + Duration::seconds(secs)
}

/// The cart's database, migrated as the service is at start.
async fn open(backend: &Backend, dir: &Path) -> Db {
    let db = backend.open(dir, crate::NAME).await;
    db.migrate(crate::migrations()).await.unwrap();
    db
}

fn line(product_id: Uuid, quantity: i64) -> Item {
    Item {
        product_id,
        quantity,
    }
}

/// A line's raw `(added_at, updated_at, merchant_id)`.
async fn line_row(
    db: &Db,
    customer: Uuid,
    product: Uuid,
) -> (OffsetDateTime, OffsetDateTime, Option<Uuid>) {
    db.fetch_one(
        "SELECT added_at, updated_at, merchant_id FROM cart_items
         WHERE customer_id = $1 AND product_id = $2",
        params![customer, product],
    )
    .await
    .unwrap()
}

async fn cart_rows(db: &Db) -> Vec<(Uuid, OffsetDateTime)> {
    db.fetch_all(
        "SELECT customer_id, updated_at FROM carts ORDER BY customer_id",
        params![],
    )
    .await
    .unwrap()
}

async fn lines_add_up_for_one_merchant(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let (shop, other_shop) = (Uuid::now_v7(), Uuid::now_v7());
    let (soup, bread, salad, cake) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    assert!(super::items(&db, ada).await.unwrap().is_empty());

    let mut tx = db.begin().await.unwrap();
    super::take(&mut tx, ada, at(0)).await.unwrap();
    assert_eq!(super::count(&mut tx, ada).await.unwrap(), 0);
    assert_eq!(
        super::other_merchant(&mut tx, ada, shop).await.unwrap(),
        None
    );
    assert!(
        super::add(&mut tx, ada, shop, line(soup, 2), MAX, at(0))
            .await
            .unwrap()
    );
    // Added at the same instant, salad before bread: read back by product id.
    assert!(
        super::add(&mut tx, ada, shop, line(salad, 1), MAX, at(1))
            .await
            .unwrap()
    );
    assert!(
        super::add(&mut tx, ada, shop, line(bread, 1), MAX, at(1))
            .await
            .unwrap()
    );
    assert!(
        super::add(&mut tx, ada, shop, line(soup, 3), MAX, at(2))
            .await
            .unwrap(),
        "adds up"
    );
    assert!(
        !super::add(&mut tx, ada, shop, line(soup, 6), MAX, at(3))
            .await
            .unwrap(),
        "past the most"
    );
    assert_eq!(super::count(&mut tx, ada).await.unwrap(), 3);
    tx.commit().await.unwrap();
    assert_eq!(
        super::items(&db, ada).await.unwrap(),
        [line(soup, 5), line(bread, 1), line(salad, 1)]
    );
    assert_eq!(
        line_row(&db, ada, soup).await,
        (stored(at(0)), stored(at(2)), Some(shop)),
        "added when first added, updated when last added to"
    );
    assert_eq!(cart_rows(&db).await, [(ada, stored(at(0)))]);

    let mut tx = db.begin().await.unwrap();
    super::take(&mut tx, ada, at(5)).await.unwrap();
    super::take(&mut tx, bob, at(5)).await.unwrap();
    assert!(
        super::add(&mut tx, ada, shop, line(soup, 5), MAX, at(5))
            .await
            .unwrap(),
        "up to the most"
    );
    assert_eq!(
        super::other_merchant(&mut tx, ada, other_shop)
            .await
            .unwrap(),
        Some(shop)
    );
    assert_eq!(
        super::other_merchant(&mut tx, ada, shop).await.unwrap(),
        None
    );
    assert_eq!(
        super::other_merchant(&mut tx, bob, other_shop)
            .await
            .unwrap(),
        None,
        "an empty cart"
    );
    assert!(
        super::add(&mut tx, bob, other_shop, line(cake, 1), MAX, at(6))
            .await
            .unwrap()
    );
    assert_eq!(super::count(&mut tx, bob).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(super::items(&db, ada).await.unwrap()[0], line(soup, 10));
    assert_eq!(super::items(&db, bob).await.unwrap(), [line(cake, 1)]);
    assert_eq!(
        line_row(&db, bob, cake).await,
        (stored(at(6)), stored(at(6)), Some(other_shop))
    );
    let mut expected = vec![(ada, stored(at(5))), (bob, stored(at(5)))];
    expected.sort_by_key(|(customer, _)| customer.to_string());
    assert_eq!(cart_rows(&db).await, expected, "one row per customer");

    // A line from before lines named their merchant is nobody else's, until added to.
    let carol = Uuid::now_v7();
    db.execute(
        "INSERT INTO cart_items (customer_id, product_id, quantity, added_at, updated_at)
         VALUES ($1, $2, $3, $4, $4)",
        params![carol, soup, 1, at(0)],
    )
    .await
    .unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        super::other_merchant(&mut tx, carol, other_shop)
            .await
            .unwrap(),
        None
    );
    assert!(
        super::add(&mut tx, carol, shop, line(soup, 1), MAX, at(7))
            .await
            .unwrap()
    );
    assert_eq!(
        super::other_merchant(&mut tx, carol, other_shop)
            .await
            .unwrap(),
        Some(shop)
    );
    tx.commit().await.unwrap();
    assert_eq!(super::items(&db, carol).await.unwrap(), [line(soup, 2)]);
    assert_eq!(
        line_row(&db, carol, soup).await,
        (stored(at(0)), stored(at(7)), Some(shop))
    );
}
backend_test!(lines_add_up, lines_add_up_for_one_merchant);

async fn lines_are_set_removed_taken_out_and_cleared(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let (ada, bob, shop) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (soup, bread, salad) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut tx = db.begin().await.unwrap();
    for (n, (product, quantity)) in [(soup, 4), (bread, 2), (salad, 1)].into_iter().enumerate() {
        let n = i64::try_from(n).unwrap();
        assert!(
            super::add(&mut tx, ada, shop, line(product, quantity), MAX, at(n))
                .await
                .unwrap()
        );
    }
    assert!(
        super::add(&mut tx, bob, shop, line(soup, 3), MAX, at(0))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    assert!(super::set(&mut tx, ada, bread, 7, at(10)).await.unwrap());
    assert!(
        !super::set(&mut tx, ada, Uuid::now_v7(), 7, at(10))
            .await
            .unwrap(),
        "no such line"
    );
    assert!(
        !super::set(&mut tx, bob, bread, 7, at(10)).await.unwrap(),
        "not in Bob's cart"
    );
    tx.commit().await.unwrap();
    assert_eq!(
        super::items(&db, ada).await.unwrap(),
        [line(soup, 4), line(bread, 7), line(salad, 1)]
    );
    assert_eq!(
        line_row(&db, ada, bread).await,
        (stored(at(1)), stored(at(10)), Some(shop))
    );

    let mut tx = db.begin().await.unwrap();
    assert!(!super::remove(&mut tx, bob, salad).await.unwrap());
    assert!(super::remove(&mut tx, ada, salad).await.unwrap());
    assert!(!super::remove(&mut tx, ada, salad).await.unwrap(), "gone");
    assert_eq!(super::count(&mut tx, ada).await.unwrap(), 2);
    tx.commit().await.unwrap();
    assert_eq!(
        super::items(&db, ada).await.unwrap(),
        [line(soup, 4), line(bread, 7)]
    );

    // What an order took: less than the line leaves the rest, all of it or more ends it.
    let mut tx = db.begin().await.unwrap();
    super::take_out(&mut tx, ada, soup, 3).await.unwrap();
    super::take_out(&mut tx, ada, bread, 9).await.unwrap();
    super::take_out(&mut tx, ada, salad, 1).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(super::items(&db, ada).await.unwrap(), [line(soup, 1)]);
    let mut tx = db.begin().await.unwrap();
    super::take_out(&mut tx, ada, soup, 1).await.unwrap();
    assert_eq!(super::count(&mut tx, ada).await.unwrap(), 0);
    tx.commit().await.unwrap();
    assert!(super::items(&db, ada).await.unwrap().is_empty());
    assert_eq!(
        super::items(&db, bob).await.unwrap(),
        [line(soup, 3)],
        "Bob's cart untouched"
    );

    let mut tx = db.begin().await.unwrap();
    assert!(
        super::add(&mut tx, ada, shop, line(bread, 1), MAX, at(20))
            .await
            .unwrap()
    );
    super::clear(&mut tx, ada).await.unwrap();
    assert_eq!(super::count(&mut tx, ada).await.unwrap(), 0);
    super::clear(&mut tx, Uuid::now_v7()).await.unwrap();
    tx.commit().await.unwrap();
    assert!(super::items(&db, ada).await.unwrap().is_empty());
    assert_eq!(super::items(&db, bob).await.unwrap(), [line(soup, 3)]);
    let mut tx = db.begin().await.unwrap();
    super::clear(&mut tx, bob).await.unwrap();
    tx.commit().await.unwrap();
    assert!(super::items(&db, bob).await.unwrap().is_empty());
}
backend_test!(lines_change, lines_are_set_removed_taken_out_and_cleared);

async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), crate::NAME, migrations)
        .await;
    // As the release before wrote them: ids as text, instants as epoch milliseconds; one
    // line from before lines named their merchant.
    let millis = |secs| ordo_kernel::time::to_millis(at(secs));
    let (ada, shop) = (Uuid::now_v7(), Uuid::now_v7());
    let (soup, bread) = (Uuid::now_v7(), Uuid::now_v7());
    for (product, quantity, added, merchant) in [
        (soup, 2_i64, 0, Some(shop.to_string())),
        (bread, 1, 1, None),
    ] {
        db.execute(
            "INSERT INTO cart_items (customer_id, product_id, quantity, added_at, updated_at, merchant_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                ada.to_string(),
                product.to_string(),
                quantity,
                millis(added),
                millis(2),
                merchant
            ],
        )
        .await
        .unwrap();
    }
    db.execute(
        "INSERT INTO carts (customer_id, updated_at) VALUES ($1, $2)",
        params![ada.to_string(), millis(2)],
    )
    .await
    .unwrap();

    db.migrate(migrations).await.unwrap();
    assert_eq!(
        super::items(&db, ada).await.unwrap(),
        [line(soup, 2), line(bread, 1)]
    );
    assert_eq!(
        line_row(&db, ada, soup).await,
        (stored(at(0)), stored(at(2)), Some(shop))
    );
    assert_eq!(
        line_row(&db, ada, bread).await,
        (stored(at(1)), stored(at(2)), None)
    );
    assert_eq!(cart_rows(&db).await, [(ada, stored(at(2)))]);
    let mut tx = db.begin().await.unwrap();
    assert_eq!(super::count(&mut tx, ada).await.unwrap(), 2);
    assert_eq!(
        super::other_merchant(&mut tx, ada, Uuid::now_v7())
            .await
            .unwrap(),
        Some(shop)
    );
    tx.commit().await.unwrap();
}
backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
