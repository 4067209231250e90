//! Refunds on both databases: the amount is reserved before the provider is asked, so two
//! concurrent refunds never both reach it for the same money; a refund the provider could
//! not confirm stays reserved and is asked again, with the same key, until it is made.

use ordo_bus::{EventMeta, Outbox};
use ordo_db::Db;
use ordo_kernel::Caller;
use ordo_kernel::Role;

use super::support::{self, Door, Held};
use crate::app::WebhookOutcome;
use crate::app::{Refund, RefundOutcome};
use crate::domain::{Payment, PaymentStatus, RefundStatus};
use crate::store;
use crate::{AppError, Payments, PaymentsError};
use ordo_testkit::{Backend, backend_test};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use uuid::Uuid;

struct Setup {
    _dir: tempfile::TempDir,
    db: Db,
    payments: Arc<Payments>,
    door: Arc<Door>,
    order_id: Uuid,
}

/// A payment of 1000 captured for an order.
async fn setup(backend: &Backend) -> Setup {
    let (dir, db) = support::migrated(backend).await;
    let door = Arc::new(Door::holding(Held::Refunds));
    let outbox = Outbox::new("payments", db.clone());
    let secret = ordo_kernel::Secret::new(WEBHOOK_SECRET.to_owned());
    let payments = Arc::new(Payments::new(
        db.clone(),
        outbox,
        door.clone(),
        Some(secret),
    ));
    let order_id = Uuid::now_v7();
    authorised(&db, order_id, 1000, "auth_1").await;
    let mut tx = db.begin().await.unwrap();
    let now = ordo_kernel::time::now();
    assert!(store::captured(&mut tx, order_id, now, None).await.unwrap());
    tx.commit().await.unwrap();
    Setup {
        _dir: dir,
        db,
        payments,
        door,
        order_id,
    }
}

/// Records the order's `amount` as authorised at the provider under `reference`.
async fn authorised(db: &Db, order_id: Uuid, amount: i64, reference: &str) -> Payment {
    let payment = Payment {
        id: Uuid::now_v7(),
        order_id,
        customer_id: Uuid::now_v7(),
        payment_method_id: None,
        provider: "door".into(),
        provider_ref: Some(reference.into()),
        status: PaymentStatus::Authorized,
        amount,
        currency: "EUR".into(),
        failure_reason: None,
        captured_amount: 0,
        refunded_amount: 0,
        attempt: 1,
        created_at: ordo_kernel::time::now(),
    };
    let mut tx = db.begin().await.unwrap();
    store::insert_payment(&mut tx, &payment).await.unwrap();
    tx.commit().await.unwrap();
    payment
}

const WEBHOOK_SECRET: &str = "a webhook secret of the provider";

/// A webhook as the provider signs it.
fn signed(body: &str) -> (String, Vec<u8>) {
    let now = ordo_kernel::time::now().unix_timestamp();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, WEBHOOK_SECRET.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{now}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    (format!("t={now},v1={hex}"), body.as_bytes().to_vec())
}

fn operator() -> Caller {
    Caller {
        user_id: Uuid::now_v7(),
        role: Role::Admin,
    }
}

async fn refunded_events(db: &Db) -> i64 {
    let (n,) = db
        .fetch_one::<(i64,)>(
            "SELECT COUNT(*) FROM bus_outbox WHERE type = 'payment.refunded'",
            ordo_db::params![],
        )
        .await
        .unwrap();
    n
}

fn refunded(outcome: RefundOutcome) -> Refund {
    match outcome {
        RefundOutcome::Refunded(refund) => refund,
        voided @ RefundOutcome::Voided { .. } => panic!("a refund, not {voided:?}"),
    }
}

async fn concurrent_refunds_never_both_reach_the_provider(backend: Backend) {
    let s = setup(&backend).await;
    let arrived = s.door.arrived.notified();
    tokio::pin!(arrived);
    arrived.as_mut().enable();
    let first = tokio::spawn({
        let (payments, order_id) = (s.payments.clone(), s.order_id);
        async move {
            payments
                .refund(&operator(), order_id, None, &Default::default())
                .await
        }
    });
    arrived.await;
    // The first is at the provider with the whole amount: the second finds nothing left.
    let meta = Default::default();
    let second = s
        .payments
        .refund(&operator(), s.order_id, None, &meta)
        .await;
    assert!(
        matches!(second, Err(AppError::Service(PaymentsError::Conflict(_)))),
        "{second:?}"
    );
    assert_eq!(
        s.door.asked.lock().unwrap().len(),
        1,
        "one call reached the provider"
    );
    s.door.open.add_permits(1);
    let made = refunded(first.await.unwrap().unwrap());
    assert_eq!(made.status, RefundStatus::Succeeded);
    assert_eq!(made.refunded_total, 1000);
    assert_eq!(refunded_events(&s.db).await, 1);
}

async fn a_refund_the_provider_cannot_confirm_is_asked_again_with_the_same_key(backend: Backend) {
    let s = setup(&backend).await;
    s.door.down.store(true, Ordering::SeqCst);
    let meta = Default::default();
    let pending = s
        .payments
        .refund(&operator(), s.order_id, Some(600), &meta)
        .await;
    let pending = refunded(pending.unwrap());
    assert_eq!(pending.status, RefundStatus::Pending);
    assert_eq!(
        refunded_events(&s.db).await,
        0,
        "not announced before it is made"
    );
    // Reserved: only what is left can still be refunded.
    let more = s
        .payments
        .refund(&operator(), s.order_id, Some(500), &meta)
        .await;
    assert!(matches!(more, Err(AppError::Invalid(_))), "{more:?}");

    let later = ordo_kernel::time::now() + std::time::Duration::from_secs(60);
    assert_eq!(s.payments.settle_pending_refunds(later).await.unwrap(), 0);
    s.door.down.store(false, Ordering::SeqCst);
    s.door.open.add_permits(1);
    assert_eq!(s.payments.settle_pending_refunds(later).await.unwrap(), 1);
    assert_eq!(s.payments.settle_pending_refunds(later).await.unwrap(), 0);
    let key = format!("refund:{}", pending.id);
    assert!(
        s.door
            .asked
            .lock()
            .unwrap()
            .iter()
            .all(|asked| *asked == key),
        "always the same idempotency key"
    );
    assert_eq!(refunded_events(&s.db).await, 1);
}

async fn the_provider_confirming_our_refund_settles_it_once(backend: Backend) {
    let s = setup(&backend).await;
    s.door.down.store(true, Ordering::SeqCst);
    let meta = Default::default();
    let pending = s
        .payments
        .refund(&operator(), s.order_id, Some(300), &meta)
        .await;
    let pending = refunded(pending.unwrap());
    assert_eq!(pending.status, RefundStatus::Pending);
    // The provider made it after all, and says so with the key we sent.
    let confirm = |event: &str| {
        let body = serde_json::json!({"id": event, "type": "charge.refunded",
            "data": {"reference": "auth_1", "amount": 300, "idempotency_key": format!("refund:{}", pending.id)}});
        signed(&body.to_string())
    };
    let (signature, body) = confirm("evt_1");
    let outcome = s
        .payments
        .webhook(&signature, &body, &EventMeta::default())
        .await
        .unwrap();
    assert_eq!(outcome, WebhookOutcome::Applied);
    let (signature, body) = confirm("evt_2");
    let again = s
        .payments
        .webhook(&signature, &body, &EventMeta::default())
        .await
        .unwrap();
    assert_eq!(again, WebhookOutcome::Ignored, "settled once");
    let later = ordo_kernel::time::now() + std::time::Duration::from_secs(60);
    assert_eq!(s.payments.settle_pending_refunds(later).await.unwrap(), 0);
    assert_eq!(refunded_events(&s.db).await, 1, "announced once");
    let left = s
        .payments
        .refund(&operator(), s.order_id, Some(701), &meta)
        .await;
    assert!(
        matches!(left, Err(AppError::Invalid(_))),
        "300 counted once: {left:?}"
    );
}

backend_test!(
    refunds_reserve_first,
    concurrent_refunds_never_both_reach_the_provider
);
backend_test!(
    provider_confirmation,
    the_provider_confirming_our_refund_settles_it_once
);
backend_test!(
    pending_refunds,
    a_refund_the_provider_cannot_confirm_is_asked_again_with_the_same_key
);

/// An authorisation standing on an order that ended (its cancellation was handled before its
/// placement, before payments remembered ends): the operator's refund voids it, once, and
/// only on an ended order.
async fn a_refund_of_an_ended_order_with_nothing_charged_voids_its_authorisation(backend: Backend) {
    let s = setup(&backend).await;
    let order_id = Uuid::now_v7();
    let now = ordo_kernel::time::now();
    let payment = authorised(&s.db, order_id, 800, "auth_2").await;
    let meta = Default::default();

    let under_way = s.payments.refund(&operator(), order_id, None, &meta).await;
    assert!(
        matches!(
            under_way,
            Err(AppError::Service(PaymentsError::Conflict(_)))
        ),
        "an order under way keeps its authorisation: {under_way:?}"
    );
    let mut tx = s.db.begin().await.unwrap();
    store::record_end(&mut tx, order_id, "cancelled", now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let part = s
        .payments
        .refund(&operator(), order_id, Some(100), &meta)
        .await;
    assert!(matches!(part, Err(AppError::Invalid(_))), "{part:?}");

    let voided = s
        .payments
        .refund(&operator(), order_id, None, &meta)
        .await
        .unwrap();
    assert_eq!(
        voided,
        RefundOutcome::Voided {
            payment_id: payment.id,
            amount: ordo_kernel::Money {
                amount: 800,
                currency: "EUR".into()
            },
        }
    );
    let status = store::payment_of_order(&s.db, order_id)
        .await
        .unwrap()
        .unwrap()
        .status;
    assert_eq!(status, PaymentStatus::Voided);
    let again = s.payments.refund(&operator(), order_id, None, &meta).await;
    assert!(
        matches!(again, Err(AppError::Service(PaymentsError::Conflict(_)))),
        "voided once: {again:?}"
    );
    let (voids,): (i64,) =
        s.db.fetch_one(
            "SELECT COUNT(*) FROM bus_outbox WHERE type = 'payment.voided'",
            ordo_db::params![],
        )
        .await
        .unwrap();
    assert_eq!(voids, 1);
}

async fn an_amount_outside_the_schema_is_refused_before_anything_is_looked_up(backend: Backend) {
    let s = setup(&backend).await;
    let meta = Default::default();
    for amount in [0, -5, 1_000_000_001] {
        let nobody = s
            .payments
            .refund(&operator(), Uuid::now_v7(), Some(amount), &meta)
            .await;
        assert!(
            matches!(nobody, Err(AppError::Invalid(_))),
            "{amount}: {nobody:?}"
        );
    }
}

backend_test!(
    void_standing_authorisation,
    a_refund_of_an_ended_order_with_nothing_charged_voids_its_authorisation
);
backend_test!(
    refund_amount_range,
    an_amount_outside_the_schema_is_refused_before_anything_is_looked_up
);
