//! The orders store on both databases: an order and its lines read back as written, its
//! moves, history, courier, parcel and declined payment; the lists, counts, sweeps and
//! the operators' search find what they should.

use ordo_orders::domain::{
    DeliveryAddress, Fulfilment, HistoryEntry, IdQuery, Order, OrderSearch, PaymentState,
    PricedLine, Shipment, Status,
};
use ordo_orders::store::orders::{self, Named};
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
        address: Some(DeliveryAddress {
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
        created_at: ordo_testkit::stored(at),
        updated_at: ordo_testkit::stored(at),
    }
}

async fn orders_read_back_as_written(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "orders").await;
    db.migrate(ordo_orders::migrations()).await.unwrap();
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
    for order in [&placed, &pickup] {
        orders::insert(&mut tx, order).await.unwrap();
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
        orders::record(&mut tx, &entry).await.unwrap();
    }
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
    let paid_at = ordo_testkit::stored(now - Duration::from_secs(30));
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
    orders::record(&mut tx, &paid).await.unwrap();
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
    let until = ordo_testkit::stored(now + Duration::from_secs(600));
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
