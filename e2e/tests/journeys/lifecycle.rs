//! After the payment: the merchant's queue, accept, ready, hand over; completion charges
//! the card; operators refund, never more than was charged; a rejection gives everything
//! back.

use ordo_db::params;
use ordo_e2e::fixtures::{GOOD_CARD, card, notified, order_request, pickup, shop, status, stock};
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

async fn payment(app: &TestApp, order: &str) -> (String, i64, i64) {
    app.databases["payments"]
        .fetch_optional(
            "SELECT status, captured_amount, refunded_amount FROM payments WHERE order_id = $1",
            params![order.parse::<Uuid>().unwrap()],
        )
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn placed_and_paid(
    app: &TestApp,
    customer: &Session,
    key: &str,
    product: &str,
    number: &str,
) -> String {
    let method = card(app, customer, number).await;
    let order: Value = json_of(order_request(
        app,
        customer,
        key,
        &pickup(json!([{"product_id": product, "quantity": 2}]), &method),
    ))
    .await;
    let id = order["id"].as_str().unwrap().to_owned();
    app.eventually("the order is paid", || async {
        status(app, customer, &id).await == "paid"
    })
    .await;
    id
}

async fn from_kitchen_to_refund(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let rival = app.signup("merchant").await;
    let customer = app.signup("customer").await;
    let admin = app.admin().await;
    let id = placed_and_paid(&app, &customer, "l1", &shop.pizza.0, GOOD_CARD).await;
    let act = |who: &Session, action: &str| {
        app.as_user(who, Method::POST, &format!("/orders/{id}/{action}"))
    };

    let queue = json_of(app.as_user(
        &shop.owner,
        Method::GET,
        &format!("/merchants/{}/orders?status=paid", shop.merchant_id),
    ))
    .await;
    assert_eq!(queue["items"][0]["id"], id.as_str());
    // Another merchant's staff: the queue and the order are not theirs, so they do not
    // exist for them. Customers and couriers may never act for a merchant.
    let courier = app.signup("courier").await;
    for (who, status) in [
        (&rival, StatusCode::NOT_FOUND),
        (&customer, StatusCode::FORBIDDEN),
        (&courier, StatusCode::FORBIDDEN),
    ] {
        let queue = app
            .as_user(
                who,
                Method::GET,
                &format!("/merchants/{}/orders", shop.merchant_id),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(queue.status(), status);
        problem(queue).await;
        for action in ["accept", "reject", "ready", "picked-up"] {
            let mut request = act(who, action);
            if action == "reject" {
                request = request.json(&json!({"reason": "sold out"}));
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), status, "{action}");
            problem(response).await;
        }
    }
    assert_eq!(status(&app, &customer, &id).await, "paid", "nothing moved");
    let early = act(&shop.owner, "ready").send().await.unwrap();
    assert_eq!(early.status(), StatusCode::CONFLICT, "not accepted yet");
    problem(early).await;

    for (action, expected) in [
        ("accept", "accepted"),
        ("ready", "ready"),
        ("picked-up", "completed"),
    ] {
        let order = json_of(act(&shop.owner, action)).await;
        assert_eq!(order["status"], expected, "{action}");
    }
    let customer_cancel = act(&customer, "cancel").send().await.unwrap();
    assert_eq!(customer_cancel.status(), StatusCode::CONFLICT);
    let history =
        json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/history"))).await;
    let steps: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["pending_payment", "paid", "accepted", "ready", "completed"]
    );
    assert_eq!(history[2]["actor"], "merchant");

    // Completion charges the card.
    app.eventually("the payment is captured", || async {
        payment(&app, &id).await == ("captured".into(), 1900, 0)
    })
    .await;
    assert_eq!(stock(&app, &shop, &shop.pizza.0).await, (8, 0, 8));

    // Refunds: operators only, part then the rest, never more than the charge.
    let refund = |who: &Session, body: Value| {
        app.as_user(who, Method::POST, &format!("/admin/orders/{id}/refund"))
            .json(&body)
    };
    assert_eq!(
        refund(&customer, json!({})).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let part = json_of(refund(&admin, json!({"amount": 500}))).await;
    assert_eq!(
        (
            part["amount"]["amount"].as_i64(),
            part["refunded_total"].as_i64()
        ),
        (Some(500), Some(500))
    );
    let too_much = refund(&admin, json!({"amount": 1401}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_much.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(too_much).await["errors"][0]["field"], "amount");
    let rest = refund(&admin, json!({})).send().await.unwrap();
    assert_eq!(rest.status(), StatusCode::CREATED);
    assert_eq!(rest.json::<Value>().await.unwrap()["refunded_total"], 1900);
    // Nothing is left to refund: a conflict with the payment's state.
    assert_eq!(
        refund(&admin, json!({"amount": 1}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(payment(&app, &id).await, ("captured".into(), 1900, 1900));
    app.eventually("the customer hears of both refunds", || async {
        notified(&app, &customer)
            .await
            .iter()
            .filter(|k| *k == "refund_issued")
            .count()
            == 2
    })
    .await;
    app.stop().await;
}

async fn a_rejection_gives_everything_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let admin = app.admin().await;
    let id = placed_and_paid(&app, &customer, "r1", &shop.pizza.0, GOOD_CARD).await;
    let reject = |body: Value| {
        app.as_user(&shop.owner, Method::POST, &format!("/orders/{id}/reject"))
            .json(&body)
    };
    assert_eq!(
        reject(json!({"reason": " "}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let rejected = json_of(reject(json!({"reason": "the oven is broken"}))).await;
    assert_eq!(rejected["status"], "rejected");
    app.eventually("the stock is back", || async {
        stock(&app, &shop, &shop.pizza.0).await == (10, 0, 10)
    })
    .await;
    app.eventually("the authorisation is voided", || async {
        payment(&app, &id).await.0 == "voided"
    })
    .await;
    app.eventually("the customer is told", || async {
        let told = notified(&app, &customer).await;
        told.iter().any(|k| k == "order_rejected") && told.iter().any(|k| k == "payment_released")
    })
    .await;
    let refund = app
        .as_user(&admin, Method::POST, &format!("/admin/orders/{id}/refund"))
        .json(&json!({}));
    assert_eq!(
        refund.send().await.unwrap().status(),
        StatusCode::CONFLICT,
        "nothing was charged"
    );

    // A card that authorises but refuses the charge: the order completes, the capture fails.
    let failing = placed_and_paid(&app, &customer, "r2", &shop.pizza.0, "4000000000000341").await;
    for action in ["accept", "ready", "picked-up"] {
        let response = app
            .as_user(
                &shop.owner,
                Method::POST,
                &format!("/orders/{failing}/{action}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{action}");
    }
    app.eventually("the capture is refused", || async {
        payment(&app, &failing).await.0 == "capture_failed"
    })
    .await;
    app.stop().await;
}

backend_test!(order_lifecycle, from_kitchen_to_refund);
backend_test!(order_rejection, a_rejection_gives_everything_back);

const WEBHOOK_SECRET: &str = "a shared webhook secret";

fn signed(body: &str, seconds_ago: i64) -> String {
    let at = time::OffsetDateTime::now_utc() - time::Duration::seconds(seconds_ago);
    ordo_kernel::signature::sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes(), at)
}

async fn provider_webhooks_are_signed_and_handled_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.payments_webhook_secret = Some(ordo_kernel::Secret::new(WEBHOOK_SECRET.into()));
    })
    .await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let id = placed_and_paid(&app, &customer, "w1", &shop.pizza.0, GOOD_CARD).await;
    for action in ["accept", "ready", "picked-up"] {
        app.as_user(&shop.owner, Method::POST, &format!("/orders/{id}/{action}"))
            .send()
            .await
            .unwrap();
    }
    app.eventually("the payment is captured", || async {
        payment(&app, &id).await.0 == "captured"
    })
    .await;
    let (reference,): (String,) = app.databases["payments"]
        .fetch_one(
            "SELECT provider_ref FROM payments WHERE order_id = $1",
            params![id.parse::<Uuid>().unwrap()],
        )
        .await
        .unwrap();

    let body = json!({"id": "evt_1", "type": "charge.refunded", "data": {"reference": reference, "amount": 300}}).to_string();
    let send = |body: String, signature: String| {
        app.api(Method::POST, "/webhooks/payments")
            .header("ordo-signature", signature)
            .header("content-type", "application/json")
            .body(body)
    };
    for (signature, why) in [
        (signed(&body, 0).replace("v1=", "v1=00"), "tampered"),
        (signed(&body, 900), "stale"),
        (String::new(), "missing"),
    ] {
        let refused = send(body.clone(), signature).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{why}");
        problem(refused).await;
    }
    assert_eq!(
        payment(&app, &id).await,
        ("captured".into(), 1900, 0),
        "nothing happened"
    );
    for _ in 0..2 {
        let accepted = send(body.clone(), signed(&body, 0)).send().await.unwrap();
        assert_eq!(accepted.status(), StatusCode::OK);
    }
    assert_eq!(
        payment(&app, &id).await,
        ("captured".into(), 1900, 300),
        "refunded once"
    );
    app.eventually("the customer hears of it", || async {
        notified(&app, &customer)
            .await
            .iter()
            .any(|k| k == "refund_issued")
    })
    .await;
    app.stop().await;
}

backend_test!(
    provider_webhooks,
    provider_webhooks_are_signed_and_handled_once
);
