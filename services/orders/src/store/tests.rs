//! The orders store on both databases: an order and its lines read back as written, its
//! moves, history, courier, parcel and declined payment; the lists, counts, sweeps and
//! the operators' search find what they should; rows of the release before native column
//! types read back the same once migrated.

use crate::domain::{
    Fulfilment, HistoryEntry, IdQuery, Order, OrderSearch, PaymentState, PricedLine, Shipment,
    Status,
};
use crate::store::idempotency::{self, Claim, Held, StaleClaim};
use crate::store::orders::{self, Named};
use ordo_kernel::PostalAddress;
use ordo_kernel::time::stored;
use ordo_testkit::{Backend, backend_test};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

fn order(customer_id: Uuid, merchant_id: Uuid, at: OffsetDateTime) -> Order {
    Order {
        id: Uuid::now_v7(),
        customer_id,
        merchant_id,
        status: Status::PendingPayment,
        fulfilment: Fulfilment::Delivery,
        address: Some(PostalAddress {
            line1: "1 Rue de la Paix".into(),
            line2: None,
            city: "Paris".into(),
            postal_code: "75002".into(),
            country: "FR".into(),
            lat: 48.869,
            lon: 2.331,
        }),
        payment_method_id: Some(Uuid::now_v7()),
        currency: "EUR".into(),
        lines: vec![
            PricedLine {
                product_id: Uuid::now_v7(),
                name: "Soup".into(),
                unit_price: 450,
                quantity: 2,
            },
            PricedLine {
                product_id: Uuid::now_v7(),
                name: "Bread".into(),
                unit_price: 120,
                quantity: 1,
            },
        ],
        subtotal: 1020,
        tip: 100,
        total: 1120,
        notes: Some("ring twice".into()),
        courier_id: None,
        shipment: None,
        payment: PaymentState::default(),
        from_cart: true,
        created_at: stored(at),
        updated_at: stored(at),
    }
}

async fn orders_read_back_as_written(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "orders").await;
    db.migrate(crate::migrations()).await.unwrap();
    let (customer, merchant) = (Uuid::now_v7(), Uuid::now_v7());
    let now = ordo_kernel::time::now();
    let placed = order(customer, merchant, now - Duration::from_secs(60));
    let pickup = Order {
        id: Uuid::now_v7(),
        fulfilment: Fulfilment::Pickup,
        address: None,
        notes: None,
        lines: Vec::new(),
        from_cart: false,
        ..placed.clone()
    };
    let mut tx = db.begin().await.unwrap();
    let mut batch = tx.batch();
    for order in [&placed, &pickup] {
        orders::insert(&mut batch, order);
        let entry = HistoryEntry {
            id: Uuid::now_v7(),
            order_id: order.id,
            from: None,
            to: Status::PendingPayment,
            actor: "customer".into(),
            actor_id: Some(customer),
            cause: "placed".into(),
            at: order.created_at,
            trace_id: None,
        };
        orders::record(&mut batch, &entry);
    }
    tx.run(batch).await.unwrap();
    let inside = orders::find(&mut tx, placed.id).await.unwrap();
    assert_eq!(inside.as_ref(), Some(&placed), "read in its transaction");
    tx.commit().await.unwrap();
    assert_eq!(
        orders::find(&db, placed.id).await.unwrap(),
        Some(placed.clone())
    );
    assert_eq!(
        orders::find(&db, pickup.id).await.unwrap(),
        Some(pickup.clone())
    );
    assert_eq!(orders::find(&db, Uuid::now_v7()).await.unwrap(), None);

    // Paid and waiting for the merchant; a courier and a parcel recorded.
    let paid_at = stored(now - Duration::from_secs(30));
    let mut tx = db.begin().await.unwrap();
    let moved = orders::transition(
        &mut tx,
        placed.id,
        Status::PendingPayment,
        Status::Paid,
        paid_at,
    );
    assert!(moved.await.unwrap());
    let again = orders::transition(
        &mut tx,
        placed.id,
        Status::PendingPayment,
        Status::Paid,
        paid_at,
    );
    assert!(!again.await.unwrap(), "it moved already");
    let paid = HistoryEntry {
        id: Uuid::now_v7(),
        order_id: placed.id,
        from: Some(Status::PendingPayment),
        to: Status::Paid,
        actor: "system".into(),
        actor_id: None,
        cause: "payment authorized".into(),
        at: paid_at,
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
    };
    let mut batch = tx.batch();
    orders::record(&mut batch, &paid);
    tx.run(batch).await.unwrap();
    let courier = Uuid::now_v7();
    assert!(
        orders::set_courier(&mut tx, placed.id, courier)
            .await
            .unwrap()
    );
    assert!(
        !orders::set_courier(&mut tx, placed.id, Uuid::now_v7())
            .await
            .unwrap()
    );
    let parcel = Shipment {
        id: Uuid::now_v7(),
        carrier: "La Poste".into(),
        tracking_number: "LP123".into(),
    };
    orders::set_shipment(&mut tx, placed.id, &parcel)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let found = orders::find(&db, placed.id).await.unwrap().unwrap();
    assert_eq!(
        (
            found.status,
            found.updated_at,
            found.courier_id,
            found.shipment
        ),
        (Status::Paid, paid_at, Some(courier), Some(parcel))
    );
    let history = orders::history(&db, placed.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1], paid);

    assert_eq!(
        orders::awaiting_merchant(&db, now, 10).await.unwrap(),
        vec![placed.id]
    );
    assert!(
        orders::awaiting_merchant(&db, paid_at - Duration::from_secs(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        orders::oldest_awaiting_merchant(&db).await.unwrap(),
        Some(paid_at)
    );
    let counts = orders::open_counts(&db).await.unwrap();
    assert!(counts.contains(&(Status::Paid, 1, paid_at)), "{counts:?}");
    assert!(
        counts.contains(&(Status::PendingPayment, 1, pickup.updated_at)),
        "{counts:?}"
    );

    // The pickup order declined, then tried with another card.
    let until = stored(now + Duration::from_secs(600));
    let mut tx = db.begin().await.unwrap();
    assert!(
        orders::payment_declined(&mut tx, pickup.id, "declined", until)
            .await
            .unwrap()
    );
    let declined = orders::transition(
        &mut tx,
        pickup.id,
        Status::PendingPayment,
        Status::PaymentFailed,
        now,
    );
    assert!(declined.await.unwrap());
    tx.commit().await.unwrap();
    let found = orders::find(&db, pickup.id).await.unwrap().unwrap();
    assert_eq!(found.payment.failure.as_deref(), Some("declined"));
    assert_eq!(found.payment.retry_until, Some(until));
    assert!(
        orders::retry_window_closed(&db, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        orders::retry_window_closed(&db, until, 10).await.unwrap(),
        vec![pickup.id]
    );
    let card = Uuid::now_v7();
    let mut tx = db.begin().await.unwrap();
    assert!(
        orders::payment_retried(&mut tx, pickup.id, card)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let found = orders::find(&db, pickup.id).await.unwrap().unwrap();
    assert_eq!(
        (
            found.payment_method_id,
            found.payment.failure,
            found.payment.attempts
        ),
        (Some(card), None, 2)
    );

    // Lists and the operators' search.
    let mine = orders::page(&db, Some(customer), None, 10).await.unwrap();
    assert_eq!(
        mine.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![pickup.id, placed.id]
    );
    let older = orders::page(&db, None, Some(pickup.id), 10).await.unwrap();
    assert_eq!(
        older.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![placed.id]
    );
    assert!(older[0].lines.is_empty(), "lists come without lines");
    let paid_only = orders::of_merchant(&db, merchant, Some(Status::Paid), None, 10);
    assert_eq!(paid_only.await.unwrap().len(), 1);
    assert_eq!(
        orders::of_merchant(&db, merchant, None, None, 10)
            .await
            .unwrap()
            .len(),
        2
    );

    let everything = OrderSearch::default();
    let by_status = OrderSearch {
        status: Some(Status::PaymentFailed),
        merchant_id: Some(merchant),
        from: Some(now - Duration::from_secs(120)),
        to: Some(now),
        ..OrderSearch::default()
    };
    let found = orders::search(&db, &by_status, None, None, 10)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![pickup.id]
    );
    let id = placed.id.to_string();
    let named = |id: Option<IdQuery>, customers: Vec<Uuid>| Named {
        id,
        customers,
        merchants: Vec::new(),
    };
    for (named, expected) in [
        (named(IdQuery::parse(&id[..35]), vec![]), vec![placed.id]),
        (named(IdQuery::parse(&id[28..]), vec![]), vec![placed.id]),
        (named(None, vec![customer]), vec![pickup.id, placed.id]),
        (named(None, vec![Uuid::now_v7()]), vec![]),
        (named(None, vec![]), vec![]),
    ] {
        let found = orders::search(&db, &everything, Some(&named), None, 10);
        let ids: Vec<Uuid> = found.await.unwrap().iter().map(|o| o.id).collect();
        assert_eq!(ids, expected, "{named:?}");
    }
}

backend_test!(orders_store, orders_read_back_as_written);

/// `order`, its lines and `entry` as the release before native column types wrote them:
/// ids as text, instants as epoch milliseconds, the address as JSON text, whether it came
/// from the cart as 0 or 1.
async fn insert_as_before(db: &ordo_db::Db, order: &Order, entry: &HistoryEntry) {
    let text = |id: Option<Uuid>| id.map(|id| id.to_string());
    let millis = ordo_kernel::time::to_millis;
    let address = order.address.as_ref().map(|a| {
        serde_json::json!({
            "line1": a.line1, "line2": a.line2, "city": a.city, "postal_code": a.postal_code,
            "country": a.country, "lat": a.lat, "lon": a.lon,
        })
        .to_string()
    });
    let shipment = order.shipment.as_ref();
    db.execute(
        "INSERT INTO orders (id, customer_id, merchant_id, status, fulfilment, address, payment_method_id, currency, subtotal, tip, total, notes, created_at, updated_at, courier_id, shipment_id, carrier, tracking_number, payment_failure, payment_retry_until, payment_attempts, from_cart)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        ordo_db::params![
            order.id.to_string(),
            order.customer_id.to_string(),
            order.merchant_id.to_string(),
            order.status.as_str(),
            order.fulfilment.as_str(),
            address,
            text(order.payment_method_id),
            order.currency,
            order.subtotal,
            order.tip,
            order.total,
            order.notes,
            millis(order.created_at),
            millis(order.updated_at),
            text(order.courier_id),
            text(shipment.map(|s| s.id)),
            shipment.map(|s| s.carrier.clone()),
            shipment.map(|s| s.tracking_number.clone()),
            order.payment.failure,
            order.payment.retry_until.map(millis),
            order.payment.attempts,
            i64::from(order.from_cart),
        ],
    )
    .await
    .unwrap();
    for (n, line) in order.lines.iter().enumerate() {
        db.execute(
            "INSERT INTO order_lines (order_id, line_no, product_id, name, unit_price, quantity)
             VALUES ($1, $2, $3, $4, $5, $6)",
            ordo_db::params![
                order.id.to_string(),
                i64::try_from(n).unwrap(),
                line.product_id.to_string(),
                line.name,
                line.unit_price,
                line.quantity,
            ],
        )
        .await
        .unwrap();
    }
    db.execute(
        "INSERT INTO order_history (id, order_id, from_status, to_status, actor, actor_id, cause, at, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        ordo_db::params![
            entry.id.to_string(),
            entry.order_id.to_string(),
            entry.from.map(Status::as_str),
            entry.to.as_str(),
            entry.actor,
            text(entry.actor_id),
            entry.cause,
            millis(entry.at),
            entry.trace_id,
        ],
    )
    .await
    .unwrap();
}

async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), "orders", migrations)
        .await;
    let (customer, merchant) = (Uuid::now_v7(), Uuid::now_v7());
    let now = ordo_kernel::time::now();
    let paid_at = stored(now - Duration::from_secs(30));
    let paid = Order {
        status: Status::Paid,
        courier_id: Some(Uuid::now_v7()),
        shipment: Some(Shipment {
            id: Uuid::now_v7(),
            carrier: "La Poste".into(),
            tracking_number: "LP123".into(),
        }),
        updated_at: paid_at,
        ..order(customer, merchant, now - Duration::from_secs(60))
    };
    let until = stored(now + Duration::from_secs(600));
    let declined = Order {
        id: Uuid::now_v7(),
        status: Status::PaymentFailed,
        fulfilment: Fulfilment::Pickup,
        address: None,
        payment_method_id: None,
        notes: None,
        lines: Vec::new(),
        from_cart: false,
        payment: PaymentState {
            failure: Some("declined".into()),
            retry_until: Some(until),
            attempts: 2,
        },
        ..order(customer, merchant, now - Duration::from_secs(45))
    };
    let entry = |order: &Order, actor_id, trace_id: Option<&str>| HistoryEntry {
        id: Uuid::now_v7(),
        order_id: order.id,
        from: Some(Status::PendingPayment),
        to: order.status,
        actor: "system".into(),
        actor_id,
        cause: "payment".into(),
        at: order.updated_at,
        trace_id: trace_id.map(str::to_owned),
    };
    let paid_entry = entry(&paid, None, Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    let declined_entry = entry(&declined, Some(customer), None);
    insert_as_before(&db, &paid, &paid_entry).await;
    insert_as_before(&db, &declined, &declined_entry).await;
    let claimed_at = stored(now - Duration::from_secs(120));
    let reserving = Uuid::now_v7();
    for (key, status, order_id, answer) in [
        ("running", "running", Some(reserving), None),
        ("done", "done", None, Some((201_i64, "{\"id\":1}"))),
    ] {
        db.execute(
            "INSERT INTO idempotency_keys (customer_id, key, request_hash, status, response_status, response_body, created_at, order_id)
             VALUES ($1, $2, 'h', $3, $4, $5, $6, $7)",
            ordo_db::params![
                customer.to_string(),
                key,
                status,
                answer.map(|(code, _)| code),
                answer.map(|(_, body)| body),
                ordo_kernel::time::to_millis(claimed_at),
                order_id.map(|id| id.to_string()),
            ],
        )
        .await
        .unwrap();
    }

    db.migrate(migrations).await.unwrap();
    assert_eq!(
        orders::find(&db, paid.id).await.unwrap(),
        Some(paid.clone())
    );
    assert_eq!(
        orders::find(&db, declined.id).await.unwrap(),
        Some(declined.clone())
    );
    assert_eq!(
        orders::history(&db, paid.id).await.unwrap(),
        vec![paid_entry]
    );
    assert_eq!(
        orders::history(&db, declined.id).await.unwrap(),
        vec![declined_entry]
    );
    assert_eq!(
        orders::awaiting_merchant(&db, now, 10).await.unwrap(),
        vec![paid.id]
    );
    assert_eq!(
        orders::retry_window_closed(&db, until, 10).await.unwrap(),
        vec![declined.id]
    );
    let reference = Named {
        id: IdQuery::parse(&paid.id.to_string()[28..]),
        customers: Vec::new(),
        merchants: Vec::new(),
    };
    let everything = OrderSearch::default();
    let found = orders::search(&db, &everything, Some(&reference), None, 10);
    let ids: Vec<Uuid> = found.await.unwrap().iter().map(|o| o.id).collect();
    assert_eq!(ids, vec![paid.id]);

    let running = StaleClaim {
        customer_id: customer,
        key: "running".into(),
        held: Held {
            order_id: reserving,
            since: claimed_at,
        },
    };
    assert_eq!(
        idempotency::stale(&db, now, 10).await.unwrap(),
        vec![running]
    );
    let mut tx = db.begin().await.unwrap();
    let replay = idempotency::claim(
        &mut tx,
        customer,
        "done",
        "h",
        Uuid::now_v7(),
        now,
        now - Duration::from_secs(10),
    );
    assert_eq!(
        replay.await.unwrap(),
        Claim::Done {
            status: 201,
            body: "{\"id\":1}".into()
        }
    );
    tx.commit().await.unwrap();
}

backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
