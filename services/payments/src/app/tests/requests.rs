//! Requests to the provider on both databases: made after the transaction that recorded
//! them, so that a provider that takes its time holds no database writer; asked again with
//! the same key after a failure, yet answered once; an order's void waits for its
//! authorisation; a declined order is authorised again with another card, once.

use super::support::{self, DECLINED, Door, Held};
use crate::Payments;
use crate::domain::{Charge, PaymentMethod, PaymentStatus, ProviderRequest, RequestAction};
use crate::store;
use ordo_bus::Outbox;
use ordo_db::Db;
use ordo_kernel::Money;
use ordo_testkit::{Backend, backend_test};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use uuid::Uuid;

struct Setup {
    _dir: tempfile::TempDir,
    db: Db,
    payments: Arc<Payments>,
    door: Arc<Door>,
    customer_id: Uuid,
    method_id: Uuid,
}

async fn setup(backend: &Backend) -> Setup {
    let (dir, db) = support::migrated(backend).await;
    let door = Arc::new(Door::holding(Held::Authorisations));
    let outbox = Outbox::new("payments", db.clone());
    let payments = Arc::new(Payments::new(db.clone(), outbox, door.clone(), None));
    let (customer_id, method_id) = (Uuid::now_v7(), Uuid::now_v7());
    let mut tx = db.begin().await.unwrap();
    let method = PaymentMethod {
        id: method_id,
        user_id: customer_id,
        provider: "door".into(),
        token: "tok_1".into(),
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2040,
        created_at: ordo_kernel::time::now(),
    };
    store::insert_method(&mut tx, &method).await.unwrap();
    tx.commit().await.unwrap();
    Setup {
        _dir: dir,
        db,
        payments,
        door,
        customer_id,
        method_id,
    }
}

impl Setup {
    async fn ask(&self, order_id: Uuid, action: RequestAction) {
        let now = ordo_kernel::time::now();
        let charge = (action == RequestAction::Authorize).then(|| self.charge(self.method_id, 1));
        let request = ProviderRequest {
            order_id,
            action,
            charge,
            traceparent: None,
            correlationid: None,
            attempts: 0,
            not_before: now,
            created_at: now,
        };
        let mut tx = self.db.begin().await.unwrap();
        store::insert_request(&mut tx, &request).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// The order's total on the customer's card `method_id`, as its `attempt`.
    fn charge(&self, method_id: Uuid, attempt: i64) -> Charge {
        Charge {
            customer_id: self.customer_id,
            payment_method_id: Some(method_id),
            amount: Money {
                amount: 1250,
                currency: "EUR".into(),
            },
            attempt,
        }
    }

    /// Records the order's authorisation with `charge` as the consumer of its placement (or
    /// of a card tried after a decline) does.
    async fn authorisation_due(&self, order_id: Uuid, charge: Charge) {
        let mut tx = self.db.begin().await.unwrap();
        let meta = ordo_bus::EventMeta::default();
        self.payments
            .authorisation_due(&mut tx, order_id, charge, &meta)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    async fn events(&self, event_type: &str) -> i64 {
        let (n,) = self
            .db
            .fetch_one::<(i64,)>(
                "SELECT COUNT(*) AS n FROM bus_outbox WHERE type = $1",
                ordo_db::params![event_type],
            )
            .await
            .unwrap();
        n
    }

    fn asked(&self) -> Vec<String> {
        self.door.asked.lock().unwrap().clone()
    }
}

async fn a_slow_provider_holds_no_writer(backend: Backend) {
    let setup = setup(&backend).await;
    let order_id = Uuid::now_v7();
    setup.ask(order_id, RequestAction::Authorize).await;

    let arrived = setup.door.arrived.notified();
    let payments = setup.payments.clone();
    let making =
        tokio::spawn(async move { payments.make_requests(ordo_kernel::time::now()).await });
    arrived.await;
    // The provider is answering: the database takes writes meanwhile (on SQLite a held
    // writer would make this wait out the acquire timeout and fail).
    let other = Uuid::now_v7();
    setup.ask(other, RequestAction::Void).await;

    setup.door.open.add_permits(1);
    assert_eq!(
        making.await.unwrap().unwrap(),
        1,
        "the void came after the pass began"
    );
    let payment = store::payment_of_order(&setup.db, order_id)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(payment.status, PaymentStatus::Authorized);
    assert_eq!(setup.events("payment.authorized").await, 1);
    assert!(
        !store::has_request(&setup.db, order_id, RequestAction::Authorize)
            .await
            .unwrap(),
        "answered requests are gone"
    );

    // The same request again (a crash before its answer was recorded): the provider is
    // asked with the same key, and the answer is not recorded or announced twice.
    setup.ask(order_id, RequestAction::Authorize).await;
    setup.door.open.add_permits(1);
    assert_eq!(
        setup
            .payments
            .make_requests(ordo_kernel::time::now())
            .await
            .unwrap(),
        2,
        "the repeat, and the other order's void (nothing to release)"
    );
    assert_eq!(setup.events("payment.authorized").await, 1);
    let keys = setup.asked();
    assert!(
        keys.iter().all(|key| key == &format!("pay:{order_id}")),
        "{keys:?}"
    );
}

backend_test!(slow_provider, a_slow_provider_holds_no_writer);

async fn a_void_waits_for_its_authorisation(backend: Backend) {
    let setup = setup(&backend).await;
    let order_id = Uuid::now_v7();
    setup.ask(order_id, RequestAction::Authorize).await;
    setup.ask(order_id, RequestAction::Void).await;

    setup.door.down.store(true, Ordering::SeqCst);
    let now = ordo_kernel::time::now();
    assert_eq!(setup.payments.make_requests(now).await.unwrap(), 0);
    assert_eq!(setup.asked(), [format!("pay:{order_id}")], "the void waits");
    let due = store::due_requests(&setup.db, now + time::Duration::hours(1), 10)
        .await
        .unwrap();
    let authorisation = due
        .iter()
        .find(|r| r.action == RequestAction::Authorize)
        .expect("still asked");
    assert_eq!(authorisation.attempts, 1);
    assert!(authorisation.not_before > now, "asked again later");

    // The provider is back: the authorisation is made, then the void releases it.
    setup.door.down.store(false, Ordering::SeqCst);
    setup.door.open.add_permits(1);
    let later = now + time::Duration::minutes(2);
    assert_eq!(setup.payments.make_requests(later).await.unwrap(), 2);
    let payment = store::payment_of_order(&setup.db, order_id)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(payment.status, PaymentStatus::Voided);
    assert_eq!(
        setup.asked()[1..],
        [format!("pay:{order_id}"), format!("void:{order_id}")]
    );
    assert_eq!(setup.events("payment.voided").await, 1);
}

backend_test!(void_after_authorisation, a_void_waits_for_its_authorisation);

/// The order's end handled before its placement (a redelivery overtook it): nothing is
/// authorised, and no provider is asked.
async fn a_placement_handled_after_its_order_ended_authorises_nothing(backend: Backend) {
    let setup = setup(&backend).await;
    let order_id = Uuid::now_v7();
    let meta = ordo_bus::EventMeta::default();
    let mut tx = setup.db.begin().await.unwrap();
    setup
        .payments
        .order_ended(&mut tx, order_id, "cancelled", &meta)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        setup
            .payments
            .make_requests(ordo_kernel::time::now())
            .await
            .unwrap(),
        1,
        "the void, with nothing to release"
    );
    setup
        .authorisation_due(order_id, setup.charge(setup.method_id, 1))
        .await;
    assert!(
        !store::has_request(&setup.db, order_id, RequestAction::Authorize)
            .await
            .unwrap(),
        "nothing to authorise"
    );
    assert_eq!(
        setup
            .payments
            .make_requests(ordo_kernel::time::now())
            .await
            .unwrap(),
        0
    );
    assert!(setup.asked().is_empty(), "the provider was never asked");
    assert!(
        store::payment_of_order(&setup.db, order_id)
            .await
            .unwrap()
            .is_none()
    );
}

backend_test!(
    end_before_placement,
    a_placement_handled_after_its_order_ended_authorises_nothing
);

/// A declined order's customer tries another card: the payment's next attempt is asked with
/// a key of its own and recorded over the decline; asked again (redelivered, or after a
/// crash), it neither asks the provider nor announces twice, and an older attempt changes
/// nothing.
async fn another_card_is_authorised_once(backend: Backend) {
    let setup = setup(&backend).await;
    let declined_card = Uuid::now_v7();
    let mut tx = setup.db.begin().await.unwrap();
    let method = PaymentMethod {
        id: declined_card,
        user_id: setup.customer_id,
        provider: "door".into(),
        token: DECLINED.into(),
        brand: "visa".into(),
        last4: "0002".into(),
        exp_month: 12,
        exp_year: 2040,
        created_at: ordo_kernel::time::now(),
    };
    store::insert_method(&mut tx, &method).await.unwrap();
    tx.commit().await.unwrap();
    let order_id = Uuid::now_v7();
    let pass = || async {
        setup.door.open.add_permits(1);
        setup
            .payments
            .make_requests(ordo_kernel::time::now())
            .await
            .unwrap()
    };

    setup
        .authorisation_due(order_id, setup.charge(declined_card, 1))
        .await;
    assert_eq!(pass().await, 1);
    let payment = store::payment_of_order(&setup.db, order_id)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(
        (payment.status, payment.attempt),
        (PaymentStatus::Failed, 1)
    );
    assert_eq!(setup.events("payment.failed").await, 1);

    let retry = setup.charge(setup.method_id, 2);
    setup.authorisation_due(order_id, retry.clone()).await;
    assert_eq!(pass().await, 1);
    let paid = store::payment_of_order(&setup.db, order_id)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(
        (paid.status, paid.attempt, paid.payment_method_id),
        (PaymentStatus::Authorized, 2, Some(setup.method_id))
    );
    assert_eq!(paid.id, payment.id, "one payment per order");
    assert_eq!(setup.events("payment.authorized").await, 1);

    // The same retry again, and the first attempt again: answered from what is recorded.
    setup.authorisation_due(order_id, retry).await;
    assert_eq!(pass().await, 1);
    setup
        .authorisation_due(order_id, setup.charge(declined_card, 1))
        .await;
    assert_eq!(pass().await, 1);
    assert_eq!(
        setup.asked(),
        [format!("pay:{order_id}"), format!("pay:{order_id}:2")],
        "each attempt asked once, with a key of its own"
    );
    assert_eq!(setup.events("payment.authorized").await, 1);
    assert_eq!(setup.events("payment.failed").await, 1);
    let still = store::payment_of_order(&setup.db, order_id)
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(
        (still.status, still.attempt),
        (PaymentStatus::Authorized, 2)
    );
}

backend_test!(another_card, another_card_is_authorised_once);
