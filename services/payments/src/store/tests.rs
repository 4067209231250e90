//! The payments store across the change to native column types on both databases: what
//! the release before wrote (ids as text, instants as epoch milliseconds) reads back the
//! same once migrated.

use crate::domain::{
    Charge, Payment, PaymentMethod, PaymentStatus, ProviderRequest, RefundStatus, RequestAction,
};
use crate::store::{self, timeline};
use ordo_db::params;
use ordo_kernel::Money;
use ordo_testkit::{Backend, backend_test};
use std::time::Duration;
use uuid::Uuid;

const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), "payments", migrations)
        .await;
    let millis = ordo_kernel::time::to_millis;
    let now = ordo_kernel::time::now();
    let ago = |secs: u64| ordo_kernel::time::stored(now - Duration::from_secs(secs));
    let (customer, order_id, ended) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());

    // A card kept and one removed.
    let card = PaymentMethod {
        id: Uuid::now_v7(),
        user_id: customer,
        provider: "sandbox".into(),
        token: "tok_1".into(),
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2040,
        created_at: ago(600),
    };
    let removed = Uuid::now_v7();
    for (id, deleted_at) in [(card.id, None), (removed, Some(millis(ago(500))))] {
        db.execute(
            "INSERT INTO payment_methods (id, user_id, provider, token, brand, last4, exp_month, exp_year, created_at, deleted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            params![
                id.to_string(),
                customer.to_string(),
                card.provider,
                card.token,
                card.brand,
                card.last4,
                card.exp_month,
                card.exp_year,
                millis(card.created_at),
                deleted_at,
            ],
        )
        .await
        .unwrap();
    }

    // A payment captured, partly refunded (pending), its authorisation answered.
    let payment = Payment {
        id: Uuid::now_v7(),
        order_id,
        customer_id: customer,
        payment_method_id: Some(card.id),
        provider: "sandbox".into(),
        provider_ref: Some("auth_1".into()),
        status: PaymentStatus::Captured,
        amount: 1000,
        currency: "EUR".into(),
        failure_reason: None,
        captured_amount: 1000,
        refunded_amount: 300,
        attempt: 1,
        created_at: ago(400),
    };
    let (asked_at, answered_at, settled_at, refunded_at) = (ago(395), ago(390), ago(300), ago(200));
    db.execute(
        "INSERT INTO payments (id, order_id, customer_id, payment_method_id, provider, provider_ref, status, amount, currency,
                               captured_amount, refunded_amount, failure_reason, attempt, created_at, updated_at, answered_at,
                               settled_at, settled_traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        params![
            payment.id.to_string(),
            payment.order_id.to_string(),
            payment.customer_id.to_string(),
            card.id.to_string(),
            payment.provider,
            payment.provider_ref,
            payment.status.as_str(),
            payment.amount,
            payment.currency,
            payment.captured_amount,
            payment.refunded_amount,
            payment.failure_reason,
            payment.attempt,
            millis(payment.created_at),
            millis(refunded_at),
            millis(answered_at),
            millis(settled_at),
            TRACE,
        ],
    )
    .await
    .unwrap();
    let refund_id = Uuid::now_v7();
    db.execute(
        "INSERT INTO refunds (id, payment_id, amount, reason, created_by, created_at, status, traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            refund_id.to_string(),
            payment.id.to_string(),
            300_i64,
            "damaged",
            Uuid::now_v7().to_string(),
            millis(refunded_at),
            "pending",
            TRACE,
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO provider_answers (order_id, action, attempt, traceparent, asked_at, answered_at)
         VALUES ($1, 'authorize', 1, $2, $3, $4)",
        params![
            order_id.to_string(),
            TRACE,
            millis(asked_at),
            millis(answered_at)
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO provider_events (id, provider, type, received_at) VALUES ('evt_1', 'sandbox', 'refund.succeeded', $1)",
        params![millis(ago(100))],
    )
    .await
    .unwrap();

    // Another order, ended, whose second card is still to be authorised.
    let request = ProviderRequest {
        order_id: ended,
        action: RequestAction::Authorize,
        charge: Some(Charge {
            customer_id: customer,
            payment_method_id: Some(card.id),
            amount: Money {
                amount: 500,
                currency: "EUR".into(),
            },
            attempt: 2,
        }),
        traceparent: Some(TRACE.into()),
        correlationid: Some("corr-1".into()),
        attempts: 1,
        not_before: ago(10),
        created_at: ago(20),
    };
    db.execute(
        "INSERT INTO provider_requests (order_id, action, customer_id, payment_method_id, amount, currency, attempt, traceparent,
                                        correlationid, attempts, not_before, created_at)
         VALUES ($1, 'authorize', $2, $3, 500, 'EUR', 2, $4, 'corr-1', 1, $5, $6)",
        params![
            ended.to_string(),
            customer.to_string(),
            card.id.to_string(),
            TRACE,
            millis(request.not_before),
            millis(request.created_at),
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO order_ends (order_id, reason, ended_at) VALUES ($1, 'cancelled', $2)",
        params![ended.to_string(), millis(ago(5))],
    )
    .await
    .unwrap();

    db.migrate(migrations).await.unwrap();
    assert_eq!(
        store::method_of(&db, customer, card.id).await.unwrap(),
        Some(card.clone())
    );
    assert_eq!(
        store::method_of(&db, customer, removed).await.unwrap(),
        None,
        "removed"
    );
    assert_eq!(store::count_methods(&db, customer).await.unwrap(), 1);
    assert_eq!(
        store::payment_of_order(&db, order_id).await.unwrap(),
        Some(payment.clone())
    );
    let steps = timeline::payment(&db, order_id).await.unwrap().unwrap();
    assert_eq!(
        (steps.answered_at, steps.settled_at),
        (answered_at, Some(settled_at))
    );
    let answers = timeline::answers(&db, order_id).await.unwrap();
    assert_eq!(
        answers
            .iter()
            .map(|a| (a.asked_at, a.answered_at))
            .collect::<Vec<_>>(),
        vec![(asked_at, answered_at)]
    );
    let refunds = timeline::refunds(&db, order_id).await.unwrap();
    assert_eq!(
        refunds.iter().map(|r| r.created_at).collect::<Vec<_>>(),
        vec![refunded_at]
    );
    let pending = store::pending_refunds(&db, now, 10).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|r| (r.refund_id, r.order_id, r.amount))
            .collect::<Vec<_>>(),
        vec![(refund_id, order_id, 300)]
    );
    assert_eq!(
        store::due_requests(&db, now, 10).await.unwrap(),
        vec![request]
    );
    assert!(store::has_ended(&db, ended).await.unwrap());
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        store::refund_of(&mut tx, payment.id, refund_id)
            .await
            .unwrap(),
        Some((300, RefundStatus::Pending))
    );
    let seen = store::remember_provider_event(&mut tx, "evt_1", "sandbox", "refund.succeeded", now);
    assert!(
        !seen.await.unwrap(),
        "the provider's event was handled before"
    );
    tx.commit().await.unwrap();
}

backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
