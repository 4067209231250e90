//! Inventory on both backends: SQLite with the in-process bus, PostgreSQL with NATS.
//! Reservations are all or nothing under concurrency, idempotent by order, and follow the
//! payment and order events in every order they can arrive in, with holds running out
//! between them: a paid order never has more stock than there is, and a declined one keeps
//! its stock while its customer may try another card. What the release before native
//! column types wrote reads back the same once migrated.

use crate::{AppError, Inventory, InventoryError};
use ordo_bus::{Bus, BusOptions, EventMeta, Outbox, RunningBus};
use ordo_contracts::catalog::{CatalogClient, MerchantSnapshot, ProductSnapshot};
use ordo_contracts::inventory::{Reservation, ReservationLine, StockChanged};
use ordo_contracts::orders::{CheckoutAbandoned, OrderCancelled, OrderPaymentFailed};
use ordo_contracts::payments::PaymentAuthorized;
use ordo_contracts::{ClientFuture, Event};
use ordo_db::{Db, Json, params};
use ordo_kernel::Caller;
use ordo_kernel::{Money, Role};
use ordo_testkit::Backend;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// A catalogue of one merchant with one member of staff and whatever products are asked for.
struct OneMerchant {
    merchant_id: Uuid,
    staff: Uuid,
}

impl CatalogClient for OneMerchant {
    fn products<'a>(&'a self, ids: &'a [Uuid]) -> ClientFuture<'a, Vec<ProductSnapshot>> {
        Box::pin(async move {
            Ok(ids
                .iter()
                .map(|id| ProductSnapshot {
                    product_id: *id,
                    merchant_id: self.merchant_id,
                    name: "Widget".into(),
                    description: String::new(),
                    category: "Things".into(),
                    price: Money {
                        amount: 100,
                        currency: "EUR".into(),
                    },
                    sku: None,
                    tags: vec![],
                    active: true,
                })
                .collect())
        })
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

    fn find_merchants<'a>(&'a self, query: &'a str, _: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async move {
            Ok(if "shop".contains(&query.to_lowercase()) {
                vec![self.merchant_id]
            } else {
                Vec::new()
            })
        })
    }
}

/// How long the inventory under test holds stock for an unpaid order.
const HOLD: Duration = Duration::from_secs(15 * 60);

struct Setup {
    _dir: tempfile::TempDir,
    db: Db,
    inventory: Arc<Inventory>,
    staff: Caller,
    /// One outbox per source whose events the tests publish.
    producers: Vec<Outbox>,
    /// How many events the tests have published, every one of them for the consumer.
    published: AtomicU64,
    bus: Option<RunningBus>,
    progress: Arc<tokio::sync::Notify>,
    stream: Option<(String, String)>,
}

async fn setup(kind: &str) -> Option<Setup> {
    let test = format!("inventory on {kind}");
    let (backend, nats) = match kind {
        "sqlite" => (Backend::Sqlite, None),
        _ => {
            let backend = ordo_testkit::postgres(&test)?;
            (backend, Some(ordo_testkit::nats(&test)?))
        }
    };
    let dir = ordo_testkit::temp_dir();
    let db: Db = backend.open(dir.path(), "inventory").await;
    db.migrate(crate::migrations()).await.unwrap();
    let payments_db = backend.open(dir.path(), "payments").await;
    let orders_db = backend.open(dir.path(), "orders").await;
    for db in [&db, &payments_db, &orders_db] {
        db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
            .await
            .unwrap();
    }
    let staff = Caller {
        user_id: Uuid::now_v7(),
        role: Role::Merchant,
    };
    let catalog = Arc::new(OneMerchant {
        merchant_id: Uuid::now_v7(),
        staff: staff.user_id,
    });
    let unique = ordo_testkit::unique_prefix();
    let stream = format!("INV_{unique}");
    let options = BusOptions {
        url: nats.clone(),
        stream: stream.clone(),
        subject_prefix: unique,
        poll_interval: Duration::from_millis(50),
        ..BusOptions::default()
    };
    let progress = options.progress.clone();
    let mut bus = Bus::new(options);
    // What orders and payments would publish, each from its own database.
    let producers = vec![
        bus.outbox("payments", payments_db),
        bus.outbox("orders", orders_db),
    ];
    let outbox = bus.outbox(crate::NAME, db.clone());
    let inventory = Arc::new(Inventory::new(db.clone(), outbox.clone(), catalog, HOLD));
    for sub in crate::subscriptions(inventory.clone(), db.clone(), &outbox) {
        bus.subscribe(sub).unwrap();
    }
    let running = bus.start().await.unwrap();
    Some(Setup {
        _dir: dir,
        db,
        inventory,
        staff,
        producers,
        published: Default::default(),
        bus: Some(running),
        progress,
        stream: nats.map(|url| (url, stream)),
    })
}

impl Setup {
    async fn publish<E: Event>(&self, order_id: Uuid, event: &E) {
        let outbox = self
            .producers
            .iter()
            .find(|outbox| outbox.source() == E::SOURCE)
            .expect("an outbox of the event's source");
        let mut tx = outbox.db().begin().await.unwrap();
        outbox
            .append(&mut tx, &order_id.to_string(), event, &EventMeta::default())
            .await
            .unwrap();
        outbox.commit(tx).await.unwrap();
        self.published.fetch_add(1, Ordering::SeqCst);
    }

    /// Events the consumer has taken in (handled or recognised as repeats).
    fn taken_in(&self) -> u64 {
        let stats = self
            .bus
            .as_ref()
            .and_then(|bus| bus.stats("inventory-reservations"))
            .expect("a running consumer");
        stats.handled() + stats.duplicates()
    }

    /// Publishes `event` and waits until the consumer has taken it in, with every event
    /// published before it: counting from a snapshot would let a late repeat of an earlier
    /// event stand in for this one.
    async fn deliver<E: Event>(&self, order_id: Uuid, event: &E) {
        self.publish(order_id, event).await;
        let published = self.published.load(Ordering::SeqCst);
        ordo_testkit::until(&self.progress, "the event is handled", || async {
            self.taken_in() >= published
        })
        .await;
    }

    /// What inventory published about `order_id`, in order. Subjects are text, whatever
    /// they name: the id's text here.
    async fn published(&self, order_id: Uuid) -> Vec<String> {
        self.db
            .fetch_all::<(String,)>(
                "SELECT type FROM bus_outbox WHERE subject = $1 ORDER BY seq",
                params![order_id.to_string()],
            )
            .await
            .unwrap()
            .into_iter()
            .map(|(event_type,)| event_type)
            .collect()
    }

    /// The availability `stock.changed` announced of `product`, in order.
    async fn announced(&self, product: Uuid) -> Vec<i64> {
        self.db
            .fetch_all::<(Json<StockChanged>,)>(
                "SELECT data FROM bus_outbox WHERE subject = $1 AND type = $2 ORDER BY seq",
                params![product.to_string(), StockChanged::TYPE],
            )
            .await
            .unwrap()
            .into_iter()
            .map(|(Json(changed),)| changed.available)
            .collect()
    }

    async fn level(&self, product: Uuid) -> (i64, i64, i64) {
        let level = self.inventory.stock(&self.staff, product).await.unwrap();
        (level.on_hand, level.reserved, level.available)
    }

    /// Waits until the stock reaches `expected`, looking again as the bus makes progress.
    async fn until_level(&self, product: Uuid, expected: (i64, i64, i64)) {
        let what = format!("the stock becomes {expected:?}");
        ordo_testkit::until(&self.progress, &what, || async {
            self.level(product).await == expected
        })
        .await;
    }

    async fn finish(mut self) {
        if let Some(bus) = self.bus.take() {
            bus.stop(Duration::from_secs(5)).await;
        }
        if let Some((url, stream)) = &self.stream {
            let client = async_nats::connect(url.as_str()).await.unwrap();
            let _ = async_nats::jetstream::new(client)
                .delete_stream(stream)
                .await;
        }
    }
}

/// Orders' word that the order's payment was declined: another card may be tried for twice
/// the hold.
fn declined(order_id: Uuid) -> OrderPaymentFailed {
    OrderPaymentFailed {
        order_id,
        customer_id: Uuid::now_v7(),
        reason: "Your card was declined. Choose another card to place this order.".into(),
        retry_until: ordo_kernel::time::now() + 2 * HOLD,
    }
}

fn line(product_id: Uuid, quantity: i64) -> ReservationLine {
    ReservationLine {
        product_id,
        quantity,
    }
}

async fn concurrent_orders_never_oversell(kind: &str) {
    let Some(s) = setup(kind).await else { return };
    // One row; eight slots of 7, 7, 6, …; and orders of two from those, which leave a unit
    // in each slot of 7 that only a merge can sell.
    for (slots, quantity) in [(1, 1), (8, 1), (8, 2)] {
        let product = Uuid::now_v7();
        s.inventory
            .set_stock(&s.staff, product, 50, Some(slots), &EventMeta::default())
            .await
            .unwrap();
        let mut orders = tokio::task::JoinSet::new();
        for _ in 0..200 {
            let inventory = s.inventory.clone();
            orders.spawn(async move {
                let lines = [line(product, quantity)];
                inventory
                    .reserve(Uuid::now_v7(), &lines, &EventMeta::default())
                    .await
                    .unwrap()
            });
        }
        let (mut held, mut short) = (0, 0);
        while let Some(result) = orders.join_next().await {
            match result.unwrap() {
                Reservation::Held => held += 1,
                Reservation::OutOfStock(shortages) => {
                    assert_eq!(shortages[0].product_id, product);
                    short += 1;
                }
                Reservation::GivenUp => panic!("no checkout was given up"),
            }
        }
        let sold = 50 / quantity;
        assert_eq!((held, short), (sold, 200 - sold), "{slots} slots");
        assert_eq!(s.level(product).await, (50, 50, 0), "{slots} slots");
    }
    s.finish().await;
}

async fn a_count_spreads_the_stock_over_its_slots(kind: &str) {
    let Some(s) = setup(kind).await else { return };
    let product = Uuid::now_v7();
    let meta = EventMeta::default();
    let count = |on_hand, slots| {
        s.inventory
            .set_stock(&s.staff, product, on_hand, slots, &meta)
    };
    let level = count(10, Some(4)).await.unwrap();
    assert_eq!((level.on_hand, level.available, level.slots), (10, 10, 4));
    let orders: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    for order in &orders {
        let held = s
            .inventory
            .reserve(*order, &[line(product, 2)], &EventMeta::default())
            .await
            .unwrap();
        assert_eq!(held, Reservation::Held);
    }
    assert_eq!(s.level(product).await, (10, 8, 2));
    // A count keeps what is held, wherever it is held; one below it is refused.
    let refused = count(7, Some(1)).await.unwrap_err();
    assert!(matches!(
        refused,
        AppError::Service(InventoryError::BelowReserved { reserved: 8 })
    ));
    let level = count(9, Some(2)).await.unwrap();
    assert_eq!(
        (level.on_hand, level.reserved, level.available, level.slots),
        (9, 8, 1, 2)
    );
    let level = count(12, None).await.unwrap();
    assert_eq!((level.available, level.slots), (4, 2));
    // The held lines move with their slots: paid, released and returned, every unit is
    // accounted for.
    let paid = PaymentAuthorized {
        order_id: orders[0],
        payment_id: Uuid::now_v7(),
        amount: Money {
            amount: 100,
            currency: "EUR".into(),
        },
    };
    s.deliver(orders[0], &paid).await;
    assert_eq!(s.level(product).await, (10, 6, 4));
    for order in &orders[1..] {
        let cancelled = OrderCancelled {
            order_id: *order,
            reason: "customer".into(),
        };
        s.deliver(*order, &cancelled).await;
    }
    assert_eq!(s.level(product).await, (10, 0, 10));
    let cancelled = OrderCancelled {
        order_id: orders[0],
        reason: "customer".into(),
    };
    s.deliver(orders[0], &cancelled).await;
    assert_eq!(s.level(product).await, (12, 0, 12));
    let invalid = count(5, Some(0)).await.unwrap_err();
    assert!(matches!(invalid, AppError::Invalid(_)));
    s.finish().await;
}

async fn reservations_are_whole_idempotent_and_follow_events(kind: &str) {
    let Some(s) = setup(kind).await else { return };
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    s.inventory
        .set_stock(&s.staff, a, 5, None, &EventMeta::default())
        .await
        .unwrap();
    s.inventory
        .set_stock(&s.staff, b, 1, None, &EventMeta::default())
        .await
        .unwrap();

    // Two lines of one product are added up; one short line holds nothing at all.
    let greedy = Uuid::now_v7();
    let answer = s
        .inventory
        .reserve(
            greedy,
            &[line(a, 3), line(b, 1), line(a, 3)],
            &EventMeta::default(),
        )
        .await
        .unwrap();
    let Reservation::OutOfStock(shortages) = answer else {
        panic!("6 of a are not there")
    };
    let short = &shortages[0];
    assert_eq!(
        (short.product_id, short.requested, short.available),
        (a, 6, 5)
    );
    assert_eq!(s.level(a).await, (5, 0, 5));
    assert_eq!(s.level(b).await, (1, 0, 1));

    // Held once, however often asked.
    let paid = Uuid::now_v7();
    for _ in 0..3 {
        let held = s
            .inventory
            .reserve(paid, &[line(a, 2), line(a, 1)], &EventMeta::default())
            .await;
        assert_eq!(held.unwrap(), Reservation::Held);
    }
    assert_eq!(s.level(a).await, (5, 3, 2));
    let conflict = s
        .inventory
        .set_stock(&s.staff, a, 2, None, &EventMeta::default())
        .await
        .unwrap_err();
    assert!(matches!(
        conflict,
        AppError::Service(InventoryError::BelowReserved { reserved: 3 })
    ));

    // Paid: the units leave the shelf; a repeat of the event changes nothing.
    let authorized = PaymentAuthorized {
        order_id: paid,
        payment_id: Uuid::now_v7(),
        amount: Money {
            amount: 300,
            currency: "EUR".into(),
        },
    };
    s.publish(paid, &authorized).await;
    s.publish(paid, &authorized).await;
    s.until_level(a, (2, 0, 2)).await;

    // Declined: the hold lasts through the window for another card, past the usual hold;
    // the order cancelled at its end gives it back; a late authorisation changes nothing.
    let failed_order = Uuid::now_v7();
    let held = s
        .inventory
        .reserve(failed_order, &[line(b, 1)], &EventMeta::default())
        .await;
    assert_eq!(held.unwrap(), Reservation::Held);
    assert_eq!(s.level(b).await, (1, 1, 0));
    s.deliver(failed_order, &declined(failed_order)).await;
    let past_the_hold = ordo_kernel::time::now() + HOLD + Duration::from_secs(1);
    assert_eq!(s.inventory.expire_holds(past_the_hold).await.unwrap(), 0);
    assert_eq!(s.level(b).await, (1, 1, 0), "held for the other card");
    let unpaid = OrderCancelled {
        order_id: failed_order,
        reason: "no other card was tried in time".into(),
    };
    s.publish(failed_order, &unpaid).await;
    s.until_level(b, (1, 0, 1)).await;
    let late = PaymentAuthorized {
        order_id: failed_order,
        ..authorized.clone()
    };
    s.publish(failed_order, &late).await;

    // Paid, then cancelled: the units come back.
    let cancelled = OrderCancelled {
        order_id: paid,
        reason: "customer".into(),
    };
    s.publish(paid, &cancelled).await;
    s.until_level(a, (5, 0, 5)).await;
    assert_eq!(
        s.level(b).await,
        (1, 0, 1),
        "the late authorisation took nothing"
    );

    // An unpaid hold runs out.
    let abandoned = Uuid::now_v7();
    let held = s
        .inventory
        .reserve(abandoned, &[line(a, 4)], &EventMeta::default())
        .await;
    assert_eq!(held.unwrap(), Reservation::Held);
    let now = ordo_kernel::time::now();
    let early = s.inventory.expire_holds(now + HOLD / 2).await.unwrap();
    assert_eq!(early, 0, "still held halfway");
    let later = now + HOLD + Duration::from_secs(1);
    assert_eq!(s.inventory.expire_holds(later).await.unwrap(), 1);
    assert_eq!(s.level(a).await, (5, 0, 5));
    assert_eq!(s.inventory.expire_holds(later).await.unwrap(), 0);
    s.finish().await;
}

/// Shoppers (search) hear of a product's stock when its merchant counts it, when holds take
/// the last units, and when a release or an expiry frees some; not at every hold.
async fn stock_changes_are_announced(kind: &str) {
    let Some(s) = setup(kind).await else { return };
    let product = Uuid::now_v7();
    s.inventory
        .set_stock(&s.staff, product, 2, None, &EventMeta::default())
        .await
        .unwrap();
    let first = Uuid::now_v7();
    let held = s
        .inventory
        .reserve(first, &[line(product, 1)], &EventMeta::default())
        .await;
    assert_eq!(held.unwrap(), Reservation::Held);
    assert_eq!(
        s.announced(product).await,
        [2],
        "one of two held: still in stock"
    );
    let last = Uuid::now_v7();
    let held = s
        .inventory
        .reserve(last, &[line(product, 1)], &EventMeta::default())
        .await;
    assert_eq!(held.unwrap(), Reservation::Held);
    assert_eq!(s.announced(product).await, [2, 0], "sold out");
    let cancelled = OrderCancelled {
        order_id: last,
        reason: "cancelled by the customer".into(),
    };
    s.publish(last, &cancelled).await;
    s.until_level(product, (2, 1, 1)).await;
    assert_eq!(s.announced(product).await, [2, 0, 1], "released");
    let later = ordo_kernel::time::now() + HOLD + Duration::from_secs(1);
    assert_eq!(s.inventory.expire_holds(later).await.unwrap(), 1);
    assert_eq!(s.announced(product).await, [2, 0, 1, 2], "expired");
    s.finish().await;
}

async fn only_staff_see_and_set_stock(kind: &str) {
    let Some(s) = setup(kind).await else { return };
    let product = Uuid::now_v7();
    let stranger = Caller {
        user_id: Uuid::now_v7(),
        role: Role::Merchant,
    };
    // Another merchant's staff: the product is not theirs, so it does not exist for them.
    let refused = s
        .inventory
        .set_stock(&stranger, product, 5, None, &EventMeta::default())
        .await;
    assert!(matches!(refused, Err(AppError::NotFound)));
    let hidden = s.inventory.stock(&stranger, product).await;
    assert!(matches!(hidden, Err(AppError::NotFound)));
    // A customer may never manage stock, whatever the product.
    let customer = Caller {
        user_id: Uuid::now_v7(),
        role: Role::Customer,
    };
    let refused = s
        .inventory
        .set_stock(&customer, product, 5, None, &EventMeta::default())
        .await;
    assert!(matches!(refused, Err(AppError::Forbidden(_))));
    let hidden = s.inventory.stock(&customer, product).await;
    assert!(matches!(hidden, Err(AppError::Forbidden(_))));
    let negative = s
        .inventory
        .set_stock(&s.staff, product, -1, None, &EventMeta::default())
        .await;
    assert!(matches!(negative, Err(AppError::Invalid(_))));
    let admin = Caller {
        user_id: Uuid::now_v7(),
        role: Role::Admin,
    };
    let level = s
        .inventory
        .set_stock(&admin, product, 7, None, &EventMeta::default())
        .await
        .unwrap();
    assert_eq!(level.available, 7);
    s.finish().await;
}

macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded_sqlite() {
                super::$name("sqlite").await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn nats_postgres() {
                super::$name("postgres").await;
            }
        }
    };
}

mod interleavings;
mod store;

both!(concurrent_orders_never_oversell);
both!(a_count_spreads_the_stock_over_its_slots);
both!(reservations_are_whole_idempotent_and_follow_events);
both!(only_staff_see_and_set_stock);
both!(stock_changes_are_announced);
