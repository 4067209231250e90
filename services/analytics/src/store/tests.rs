//! The reports' store on both backends: facts are journaled once and counted in their
//! merchant's hour and the platform's, with the steps' durations and the endings' causes;
//! a rebuild from the journal makes the same report again; what the previous release
//! counted reads back once migrated.

use crate::domain::{Bucket, Counts, Fact, Period, Report, bin_of};
use crate::store::{self, OrderFacts};
use crate::{Analytics, AnalyticsError, AppError};
use ordo_contracts::ClientFuture;
use ordo_contracts::catalog::{CatalogClient, MerchantSnapshot, ProductSnapshot};
use ordo_db::{Db, params};
use ordo_kernel::time::to_millis;
use ordo_kernel::{Caller, Role};
use ordo_testkit::{Backend, backend_test};
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A catalogue of one merchant with one member of staff.
struct OneMerchant {
    merchant_id: Uuid,
    staff: Uuid,
}

impl CatalogClient for OneMerchant {
    fn products<'a>(&'a self, _: &'a [Uuid]) -> ClientFuture<'a, Vec<ProductSnapshot>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn merchant(&self, id: Uuid) -> ClientFuture<'_, Option<MerchantSnapshot>> {
        Box::pin(async move {
            Ok((id == self.merchant_id).then(|| MerchantSnapshot {
                merchant_id: id,
                name: "Shop".into(),
                kind: "shop".into(),
                address: "Somewhere 1".into(),
                lat: 52.5,
                lon: 13.4,
                opening_hours: Vec::new(),
                staff: vec![self.staff],
            }))
        })
    }

    fn find_merchants<'a>(&'a self, _: &'a str, _: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

async fn record(analytics: &Analytics, db: &Db, id: Uuid, at: OffsetDateTime, fact: Fact) {
    let mut tx = db.begin().await.unwrap();
    analytics
        .record(&mut tx, id, "test.fact", at, fact)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn day() -> Period {
    Period::parse(
        Some("2026-11-30"),
        Some("2026-12-01"),
        Some("hour"),
        datetime!(2026-12-01 0:00 UTC),
    )
    .unwrap()
}

async fn facts_are_counted_once_and_rebuilt(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "analytics").await;
    db.migrate(crate::migrations()).await.unwrap();
    let (merchant_id, staff) = (Uuid::now_v7(), Uuid::now_v7());
    let catalog = Arc::new(OneMerchant { merchant_id, staff });
    let analytics = Analytics::new(db.clone(), catalog);
    let admin = Caller {
        user_id: Uuid::now_v7(),
        role: Role::Admin,
    };
    let owner = Caller {
        user_id: staff,
        role: Role::Merchant,
    };

    // A fact of an order not placed yet waits for its placement.
    let (order, other) = (Uuid::now_v7(), Uuid::now_v7());
    let placed_at = datetime!(2026-11-30 10:15 UTC);
    let mut tx = db.begin().await.unwrap();
    let early = analytics
        .record(
            &mut tx,
            Uuid::now_v7(),
            "order.accepted",
            placed_at,
            Fact::Accepted { order_id: order },
        )
        .await;
    assert!(matches!(
        early,
        Err(AppError::Service(AnalyticsError::NotPlacedYet(id))) if id == order
    ));
    tx.rollback().await.unwrap();

    let cart = Fact::CartStarted {
        merchant_id,
        currency: "EUR".into(),
    };
    record(&analytics, &db, Uuid::now_v7(), placed_at, cart).await;
    let placed = Uuid::now_v7();
    for _ in 0..2 {
        // A repeat of the event is journaled and counted once.
        let fact = Fact::Placed {
            order_id: order,
            merchant_id,
            currency: "EUR".into(),
            total: 1500,
            from_cart: true,
        };
        record(&analytics, &db, placed, placed_at, fact).await;
    }
    let steps = [
        (Duration::minutes(2), Fact::Accepted { order_id: order }),
        (Duration::minutes(20), Fact::Ready { order_id: order }),
        (Duration::minutes(25), Fact::PickedUp { order_id: order }),
        (Duration::minutes(55), Fact::Completed { order_id: order }),
        (
            Duration::minutes(56),
            Fact::Captured {
                order_id: order,
                amount: 1500,
            },
        ),
    ];
    for (after, fact) in steps {
        record(&analytics, &db, Uuid::now_v7(), placed_at + after, fact).await;
    }
    let fact = Fact::Placed {
        order_id: other,
        merchant_id,
        currency: "EUR".into(),
        total: 700,
        from_cart: false,
    };
    record(&analytics, &db, Uuid::now_v7(), placed_at, fact).await;
    let fact = Fact::Rejected {
        order_id: other,
        reason: " Sold OUT".into(),
    };
    record(&analytics, &db, Uuid::now_v7(), placed_at, fact).await;

    let report = analytics.summary(&admin, &day()).await.unwrap();
    check(&report);
    let mine = analytics
        .merchant_report(&owner, merchant_id, &day())
        .await
        .unwrap();
    assert_eq!(mine, report, "one merchant: the platform is all of it");
    let stranger = Uuid::now_v7();
    let hidden = analytics.merchant_report(&owner, stranger, &day()).await;
    assert!(matches!(hidden, Err(AppError::NotFound)));

    // 9 facts journaled (the repeat is not), made into the same report again.
    assert_eq!(analytics.rebuild().await.unwrap(), 9);
    assert_eq!(analytics.summary(&admin, &day()).await.unwrap(), report);
}

fn check(report: &Report) {
    let [ten, eleven] = report.buckets.as_slice() else {
        panic!("two hours had something: {:?}", report.buckets)
    };
    assert_eq!(ten.start, datetime!(2026-11-30 10:00 UTC));
    assert_eq!(ten.currency, "EUR");
    let counts = ten.counts;
    assert_eq!(
        (
            counts.carts,
            counts.orders,
            counts.from_cart,
            counts.basket_total
        ),
        (1, 2, 1, 2200)
    );
    assert_eq!((counts.completed, counts.rejected), (0, 1));
    assert_eq!(eleven.start, datetime!(2026-11-30 11:00 UTC));
    let counts = eleven.counts;
    assert_eq!(
        (counts.completed, counts.completed_total, counts.captured),
        (1, 1500, 1500)
    );
    let kinds: Vec<(&str, i64)> = report
        .timings
        .iter()
        .map(|(_, kind, _, count)| (kind.as_str(), *count))
        .collect();
    assert_eq!(
        kinds,
        [("acceptance", 1), ("preparation", 1), ("delivery", 1)]
    );
    let causes: Vec<(&str, &str, i64)> = report
        .causes
        .iter()
        .map(|(_, outcome, cause, count)| (outcome.as_str(), cause.as_str(), *count))
        .collect();
    assert_eq!(causes, [("rejected", "sold out", 1)]);
}

mod facts_are_counted_once_and_rebuilt {
    #[tokio::test]
    async fn sqlite() {
        super::facts_are_counted_once_and_rebuilt(ordo_testkit::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        let test = "analytics reports on postgres";
        if let Some(backend) = ordo_testkit::postgres(test) {
            super::facts_are_counted_once_and_rebuilt(backend).await;
        }
    }
}

/// What the release before native PostgreSQL types wrote (ids as text, instants as epoch
/// milliseconds, facts as JSON text) reads back the same, in hours and in days, and takes
/// the facts that follow.
async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    // The previous release ends at 0002: native types (0003) and the hours' shards (0004)
    // came after it.
    let db = backend
        .open_previous_release(dir.path(), "analytics", &migrations[..3])
        .await;
    let (event, order, merchant_id) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let placed_at = ordo_kernel::time::stored(datetime!(2026-11-30 10:15:00.250 UTC));
    let accepted_at = placed_at + Duration::minutes(2);
    let ten = datetime!(2026-11-30 10:00 UTC);
    let accepting = bin_of(120.0);
    db.execute(
        "INSERT INTO journal (event_id, event_type, at, data) VALUES ($1, $2, $3, $4)",
        params![
            event.to_string(),
            "order.placed",
            to_millis(placed_at),
            format!(
                r#"{{"fact": "placed", "order_id": "{order}", "merchant_id": "{merchant_id}", "currency": "EUR", "total": 1500, "from_cart": true}}"#
            )
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO order_facts
           (order_id, merchant_id, currency, total, placed_at, accepted_at, ready_at, picked_up_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            order.to_string(),
            merchant_id.to_string(),
            "EUR",
            1500_i64,
            to_millis(placed_at),
            to_millis(accepted_at),
            None::<i64>,
            None::<i64>
        ],
    )
    .await
    .unwrap();
    for whose in [String::new(), merchant_id.to_string()] {
        db.execute(
            "INSERT INTO hourly (merchant_id, hour, currency, orders, from_cart, basket_total)
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![whose, to_millis(ten), "EUR", 1_i64, 1_i64, 1500_i64],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO timings (merchant_id, hour, kind, bin, count) VALUES ($1, $2, $3, $4, $5)",
            params![whose, to_millis(ten), "acceptance", accepting, 1_i64],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO causes (merchant_id, hour, outcome, cause, count)
             VALUES ($1, $2, $3, $4, $5)",
            params![whose, to_millis(ten), "rejected", "sold out", 1_i64],
        )
        .await
        .unwrap();
    }

    db.migrate(migrations).await.unwrap();

    let placed = Fact::Placed {
        order_id: order,
        merchant_id,
        currency: "EUR".into(),
        total: 1500,
        from_cart: true,
    };
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        store::journaled(&mut tx, None, 10).await.unwrap(),
        [(placed_at, event, placed)]
    );
    let facts = OrderFacts {
        merchant_id,
        currency: "EUR".into(),
        total: 1500,
        placed_at,
        accepted_at: Some(accepted_at),
        ready_at: None,
        picked_up_at: None,
    };
    assert_eq!(store::order(&mut tx, order).await.unwrap(), Some(facts));
    tx.rollback().await.unwrap();

    let staff = Uuid::now_v7();
    let catalog = Arc::new(OneMerchant { merchant_id, staff });
    let analytics = Analytics::new(db.clone(), catalog);
    let admin = Caller {
        user_id: Uuid::now_v7(),
        role: Role::Admin,
    };
    let counted = Counts {
        orders: 1,
        from_cart: 1,
        basket_total: 1500,
        ..Counts::default()
    };
    let report = analytics.summary(&admin, &day()).await.unwrap();
    assert_eq!(
        report,
        Report {
            buckets: vec![Bucket {
                start: ten,
                currency: "EUR".into(),
                counts: counted,
            }],
            timings: vec![(ten, "acceptance".into(), accepting, 1)],
            causes: vec![(ten, "rejected".into(), "sold out".into(), 1)],
        }
    );
    let owner = Caller {
        user_id: staff,
        role: Role::Merchant,
    };
    let mine = analytics.merchant_report(&owner, merchant_id, &day()).await;
    assert_eq!(mine.unwrap(), report);
    let days = Period::parse(
        Some("2026-11-29"),
        Some("2026-12-01"),
        Some("day"),
        datetime!(2026-12-01 0:00 UTC),
    )
    .unwrap();
    let by_day = analytics.summary(&admin, &days).await.unwrap();
    let midnight = datetime!(2026-11-30 0:00 UTC);
    assert_eq!(
        (by_day.buckets[0].start, by_day.buckets.len()),
        (midnight, 1)
    );

    // The order's migrated acceptance is where its preparation is timed from.
    let ready = Fact::Ready { order_id: order };
    record(
        &analytics,
        &db,
        Uuid::now_v7(),
        accepted_at + Duration::minutes(10),
        ready,
    )
    .await;
    let timings = analytics.summary(&admin, &day()).await.unwrap().timings;
    assert_eq!(
        timings,
        [
            (ten, "acceptance".into(), accepting, 1),
            (ten, "preparation".into(), bin_of(600.0), 1)
        ]
    );
}
backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
