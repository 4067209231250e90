//! The delivery store on both databases: a database of the release before native types,
//! with rows as it wrote them (text ids, instants in epoch milliseconds, flags 0 and 1), is
//! migrated and read back, and written on, through the store.

use crate::app::fleet::Courier;
use crate::domain::{
    CarrierEvent, Delivery, DeliveryStatus, Fix, Offer, OfferStatus, PastOffer, Scan, Shipment,
    ShipmentStatus, Stop,
};
use crate::store::{self, shipments};
use ordo_db::params;
use ordo_kernel::Money;
use ordo_testkit::{Backend, backend_test};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// An instant with sub-millisecond digits, which the tables drop.
const T: OffsetDateTime = datetime!(2026-03-01 12:00:00.123456789 UTC);

/// `T` moved by `secs` seconds, as the tables keep it: to the millisecond.
fn at(secs: i64) -> OffsetDateTime {
    ordo_kernel::time::stored(T + Duration::seconds(secs))
}

/// `at(secs)` as the previous release wrote it.
fn millis(secs: i64) -> i64 {
    ordo_kernel::time::to_millis(at(secs))
}

fn delivery(status: DeliveryStatus, courier_id: Option<Uuid>, since: i64) -> Delivery {
    let stop = |name: &str, lat, lon| Stop {
        name: name.to_owned(),
        address: format!("{name} street 1"),
        lat,
        lon,
    };
    Delivery {
        id: Uuid::now_v7(),
        order_id: Uuid::now_v7(),
        merchant_id: Uuid::now_v7(),
        customer_id: Uuid::now_v7(),
        status,
        courier_id,
        pickup: stop("Shop", 52.52, 13.405),
        pickup_cell: "881f1d4a9bfffff".into(),
        drop_off: stop("Home", 52.51, 13.39),
        searching_since: at(since),
        escalated_at: None,
        assigned_at: None,
        picked_up_at: None,
        delivered_at: None,
        created_at: at(since),
        payout: Money {
            amount: 450,
            currency: "EUR".into(),
        },
        search_radius_km: None,
        redispatched_at: None,
    }
}

/// Writes `d` as the previous release did, last changed at `updated`.
async fn insert_old_delivery(db: &ordo_db::Db, d: &Delivery, updated: i64) {
    let old = |at: Option<OffsetDateTime>| at.map(ordo_kernel::time::to_millis);
    db.execute(
        "INSERT INTO deliveries (id, order_id, merchant_id, customer_id, status, courier_id,
             pickup_name, pickup_address, pickup_lat, pickup_lon, pickup_cell,
             drop_off_name, drop_off_address, drop_off_lat, drop_off_lon,
             searching_since, escalated_at, assigned_at, picked_up_at, delivered_at, created_at,
             updated_at, payout_amount, payout_currency, search_radius_km, redispatched_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
             $18, $19, $20, $21, $22, $23, $24, $25, $26)",
        params![
            d.id.to_string(),
            d.order_id.to_string(),
            d.merchant_id.to_string(),
            d.customer_id.to_string(),
            d.status.as_str(),
            d.courier_id.map(|id| id.to_string()),
            d.pickup.name,
            d.pickup.address,
            d.pickup.lat,
            d.pickup.lon,
            d.pickup_cell,
            d.drop_off.name,
            d.drop_off.address,
            d.drop_off.lat,
            d.drop_off.lon,
            ordo_kernel::time::to_millis(d.searching_since),
            old(d.escalated_at),
            old(d.assigned_at),
            old(d.picked_up_at),
            old(d.delivered_at),
            ordo_kernel::time::to_millis(d.created_at),
            millis(updated),
            d.payout.amount,
            d.payout.currency,
            d.search_radius_km,
            old(d.redispatched_at),
        ],
    )
    .await
    .unwrap();
}

/// Writes `o` as the previous release did, answered at `answered`.
async fn insert_old_offer(db: &ordo_db::Db, o: &Offer, answered: Option<i64>) {
    db.execute(
        "INSERT INTO offers (id, delivery_id, courier_id, status, distance_km, created_at,
             expires_at, answered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            o.id.to_string(),
            o.delivery_id.to_string(),
            o.courier_id.to_string(),
            o.status.as_str(),
            o.distance_km,
            ordo_kernel::time::to_millis(o.created_at),
            ordo_kernel::time::to_millis(o.expires_at),
            answered.map(millis),
        ],
    )
    .await
    .unwrap();
}

async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), crate::NAME, migrations)
        .await;
    let (carrying, idle) = (Uuid::now_v7(), Uuid::now_v7());
    let assigned = Delivery {
        assigned_at: Some(at(5)),
        ..delivery(DeliveryStatus::Assigned, Some(carrying), 0)
    };
    let waiting = Delivery {
        searching_since: at(3),
        escalated_at: Some(at(2)),
        search_radius_km: Some(12.5),
        redispatched_at: Some(at(3)),
        ..delivery(DeliveryStatus::Offered, None, 1)
    };
    insert_old_delivery(&db, &assigned, 5).await;
    insert_old_delivery(&db, &waiting, 3).await;
    let offer = |courier_id, status, created: i64| Offer {
        id: Uuid::now_v7(),
        delivery_id: waiting.id,
        courier_id,
        status,
        distance_km: 1.25,
        created_at: at(created),
        expires_at: at(created + 30),
    };
    let declined = offer(carrying, OfferStatus::Declined, 3);
    let open = offer(idle, OfferStatus::Open, 4);
    insert_old_offer(&db, &declined, Some(4)).await;
    insert_old_offer(&db, &open, None).await;
    let courier_sql = "INSERT INTO couriers (courier_id, online, lat, lon, located_at, idle_since,
             updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    db.execute(
        courier_sql,
        params![
            carrying.to_string(),
            1_i64,
            Some(52.53),
            Some(13.41),
            Some(millis(6)),
            millis(0),
            millis(6)
        ],
    )
    .await
    .unwrap();
    db.execute(
        courier_sql,
        params![
            idle.to_string(),
            0_i64,
            None::<f64>,
            None::<f64>,
            None::<i64>,
            millis(1),
            millis(1)
        ],
    )
    .await
    .unwrap();
    let parcel = Shipment {
        id: Uuid::now_v7(),
        order_id: Uuid::now_v7(),
        merchant_id: Uuid::now_v7(),
        customer_id: Uuid::now_v7(),
        carrier: "dhl".into(),
        tracking_number: "JD0001".into(),
        status: ShipmentStatus::Shipped,
        created_at: at(0),
        shipped_at: Some(at(7)),
        delivered_at: None,
    };
    db.execute(
        "INSERT INTO shipments (id, order_id, merchant_id, customer_id, carrier, tracking_number,
             status, created_at, shipped_at, delivered_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'shipped', $7, $8, NULL, $8)",
        params![
            parcel.id.to_string(),
            parcel.order_id.to_string(),
            parcel.merchant_id.to_string(),
            parcel.customer_id.to_string(),
            parcel.carrier,
            parcel.tracking_number,
            millis(0),
            millis(7),
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO shipment_events (id, shipment_id, type, location, received_at)
         VALUES ('evt-1', $1, 'in_transit', 'Berlin', $2)",
        params![parcel.id.to_string(), millis(7)],
    )
    .await
    .unwrap();

    db.migrate(migrations).await.unwrap();

    assert_eq!(
        store::delivery_by_id(&db, assigned.id).await.unwrap(),
        Some(assigned.clone())
    );
    assert_eq!(
        store::delivery_for_order(&db, waiting.order_id)
            .await
            .unwrap(),
        Some(waiting.clone())
    );
    assert_eq!(
        store::deliveries_of(&db, carrying, None, 10).await.unwrap(),
        std::slice::from_ref(&assigned)
    );
    assert_eq!(
        store::waiting(&db, 10).await.unwrap(),
        [(waiting.clone(), 1)]
    );
    assert_eq!(store::oldest_waiting(&db).await.unwrap(), Some(at(3)));
    assert_eq!(
        store::offer_by_id(&db, open.id).await.unwrap(),
        Some(open.clone())
    );
    let mut past = store::past_offers(&db, waiting.id).await.unwrap();
    past.sort_by_key(|offer| offer.created_at);
    assert_eq!(
        past,
        [
            PastOffer {
                courier_id: carrying,
                status: OfferStatus::Declined,
                created_at: at(3),
                ended_at: Some(at(4)),
            },
            PastOffer {
                courier_id: idle,
                status: OfferStatus::Open,
                created_at: at(4),
                ended_at: None,
            },
        ]
    );
    assert_eq!(
        store::open_offers_of(&db, idle, at(10)).await.unwrap(),
        [(open.clone(), waiting.clone())]
    );
    assert!(
        store::open_offers_of(&db, idle, at(34))
            .await
            .unwrap()
            .is_empty(),
        "expired at its expiry instant"
    );

    let mut couriers = store::couriers(&db).await.unwrap();
    couriers.sort_by_key(|(id, _)| *id);
    assert_eq!(
        couriers,
        [
            (
                carrying,
                Courier {
                    online: true,
                    fix: Some(Fix {
                        lat: 52.53,
                        lon: 13.41,
                        at: at(6)
                    }),
                    busy: true,
                    idle_since: at(0),
                }
            ),
            (
                idle,
                Courier {
                    online: false,
                    fix: None,
                    busy: false,
                    idle_since: at(1),
                }
            ),
        ]
    );
    assert_eq!(store::busy_couriers(&db).await.unwrap(), [carrying]);

    assert_eq!(
        shipments::find(&db, parcel.id).await.unwrap(),
        Some(parcel.clone())
    );
    assert_eq!(
        shipments::scans(&db, parcel.id).await.unwrap(),
        [Scan {
            id: "evt-1".into(),
            event: CarrierEvent::InTransit,
            location: Some("Berlin".into()),
            received_at: at(7),
        }]
    );

    // The converted rows take the store's writes; the foreign keys hold again.
    let mut tx = db.begin().await.unwrap();
    let moved = store::move_delivery(
        &mut tx,
        assigned.id,
        &[DeliveryStatus::Assigned],
        DeliveryStatus::PickedUp,
        None,
        at(8),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        moved,
        Some(Delivery {
            status: DeliveryStatus::PickedUp,
            picked_up_at: Some(at(8)),
            ..assigned.clone()
        })
    );
    assert_eq!(
        store::expire_offers(&mut tx, at(34), None).await.unwrap(),
        [waiting.id]
    );
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let orphan = store::insert_offer(
        &mut tx,
        &Offer {
            id: Uuid::now_v7(),
            delivery_id: Uuid::now_v7(),
            ..open.clone()
        },
        None,
    )
    .await;
    assert!(orphan.is_err(), "an offer of no delivery");
    tx.rollback().await.unwrap();
}
backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
