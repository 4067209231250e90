//! A declined card is a second chance, not a dead end: the order waits in `payment_failed`
//! with the reason in words and its stock held; its customer pays it with another card —
//! again and again until one is authorised, each card asked once — while nobody else may,
//! nor with a card not theirs, nor once it is paid; when nobody has paid by the end of the
//! window, the order is cancelled and its stock given back.

use ordo_db::params;
use ordo_e2e::fixtures::{DECLINED_CARD, GOOD_CARD, card, order_request, pickup, shop, stock};
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const DECLINED_IN_WORDS: &str = "Your card was declined. Choose another card to place this order.";

/// An order of two pizzas for pickup, paid with `method`; its id.
async fn place(app: &TestApp, customer: &Session, pizza: &str, method: &str) -> String {
    let items = json!([{"product_id": pizza, "quantity": 2}]);
    let key = uuid::Uuid::now_v7().to_string();
    let order = json_of(order_request(app, customer, &key, &pickup(items, method))).await;
    order["id"].as_str().unwrap().to_owned()
}

async fn order(app: &TestApp, who: &Session, id: &str) -> Value {
    json_of(app.as_user(who, Method::GET, &format!("/orders/{id}"))).await
}

/// Waits until the order, as its customer sees it, is in `status`.
async fn until_status(app: &TestApp, customer: &Session, id: &str, status: &str) {
    app.eventually(&format!("the order is {status}"), || async {
        order(app, customer, id).await["status"] == status
    })
    .await;
}

fn retry(app: &TestApp, who: &Session, id: &str, body: &Value) -> reqwest::RequestBuilder {
    app.as_user(who, Method::POST, &format!("/orders/{id}/payment"))
        .json(body)
}

fn instant(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// What payments recorded and announced for the order: (status, attempt, authorisations
/// announced).
async fn payment(app: &TestApp, id: &str) -> (String, i64, i64) {
    let db = &app.databases["payments"];
    let (status, attempt): (String, i64) = db
        .fetch_one(
            "SELECT status, attempt FROM payments WHERE order_id = $1",
            params![id.parse::<uuid::Uuid>().unwrap()],
        )
        .await
        .unwrap();
    let (announced,): (i64,) = db
        .fetch_one(
            "SELECT COUNT(*) FROM bus_outbox WHERE subject = $1 AND type = 'payment.authorized'",
            params![id],
        )
        .await
        .unwrap();
    (status, attempt, announced)
}

async fn a_declined_order_is_paid_with_another_card(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let pizza = shop.pizza.0.clone();
    let customer = app.signup("customer").await;
    let declined = card(&app, &customer, DECLINED_CARD).await;
    let placed_at = ordo_kernel::time::now();
    let id = place(&app, &customer, &pizza, &declined).await;

    until_status(&app, &customer, &id, "payment_failed").await;
    let waiting = order(&app, &customer, &id).await;
    assert_eq!(waiting["payment_failure"], DECLINED_IN_WORDS);
    let until = instant(&waiting["payment_retry_until"]);
    let window = Duration::from_secs(app.config.orders.payment_retry_secs);
    assert!(
        until >= placed_at + window && until <= ordo_kernel::time::now() + window,
        "{until}"
    );
    assert_eq!(stock(&app, &shop, &pizza).await, (10, 2, 8), "still held");
    let history = json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/history")));
    let history = history.await;
    assert_eq!(
        (&history[1]["to"], &history[1]["cause"]),
        (
            &json!("payment_failed"),
            &json!("payment failed: card_declined")
        )
    );

    // Nobody else pays it, nor with a card that is not the customer's; nothing changes.
    let other = app.signup("customer").await;
    let theirs = card(&app, &other, GOOD_CARD).await;
    let refusals = [
        (
            &other,
            json!({"payment_method_id": theirs}),
            StatusCode::NOT_FOUND,
        ),
        (
            &shop.owner,
            json!({"payment_method_id": theirs}),
            StatusCode::FORBIDDEN,
        ),
        (
            &customer,
            json!({"payment_method_id": theirs}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &customer,
            json!({"payment_method_id": declined, "amount": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (&customer, json!({}), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (who, body, expected) in refusals {
        let refused = retry(&app, who, &id, &body).send().await.unwrap();
        assert_eq!(refused.status(), expected, "{body}");
        problem(refused).await;
    }
    let unchanged = order(&app, &customer, &id).await;
    assert_eq!(unchanged["status"], "payment_failed");
    assert_eq!(unchanged["payment_method_id"], declined.as_str());

    // The same card again: declined again, the window as it was.
    let again = retry(
        &app,
        &customer,
        &id,
        &json!({"payment_method_id": declined}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let pending: Value = again.json().await.unwrap();
    assert_eq!(pending["status"], "pending_payment");
    assert_eq!(pending["payment_failure"], Value::Null);
    app.eventually("declined again", || async {
        payment(&app, &id).await.1 == 2
    })
    .await;
    until_status(&app, &customer, &id, "payment_failed").await;
    let twice = order(&app, &customer, &id).await;
    assert_eq!(twice["payment_failure"], DECLINED_IN_WORDS);
    assert_eq!(
        twice["payment_retry_until"], waiting["payment_retry_until"],
        "the window opened at the first decline"
    );

    // Another card: authorised once, the stock committed, the order paid.
    let good = card(&app, &customer, GOOD_CARD).await;
    let body = json!({"payment_method_id": good});
    let accepted = retry(&app, &customer, &id, &body).send().await.unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    until_status(&app, &customer, &id, "paid").await;
    assert_eq!(stock(&app, &shop, &pizza).await, (8, 0, 8));
    let paid = order(&app, &customer, &id).await;
    assert_eq!(paid["payment_method_id"], good.as_str());
    assert_eq!(paid["payment_failure"], Value::Null);
    assert_eq!(paid["payment_retry_until"], Value::Null);
    assert_eq!(payment(&app, &id).await, ("authorized".to_owned(), 3, 1));
    let steps: Vec<(String, String)> =
        json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/history")))
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let actor = h["actor"].as_str().unwrap().to_owned();
                (h["to"].as_str().unwrap().to_owned(), actor)
            })
            .collect();
    let expected = [
        ("pending_payment", "customer"),
        ("payment_failed", "system"),
        ("pending_payment", "customer"),
        ("payment_failed", "system"),
        ("pending_payment", "customer"),
        ("paid", "system"),
    ];
    assert_eq!(
        steps,
        expected.map(|(to, actor)| (to.to_owned(), actor.to_owned()))
    );

    // The same request once more: refused, nothing asked or held twice.
    let repeated = retry(&app, &customer, &id, &body).send().await.unwrap();
    assert_eq!(repeated.status(), StatusCode::CONFLICT);
    problem(repeated).await;
    assert_eq!(payment(&app, &id).await, ("authorized".to_owned(), 3, 1));
    app.stop().await;
}

async fn a_window_that_closes_cancels_the_order_and_frees_its_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let pizza = shop.pizza.0.clone();
    let customer = app.signup("customer").await;
    let declined = card(&app, &customer, DECLINED_CARD).await;
    let id = place(&app, &customer, &pizza, &declined).await;
    until_status(&app, &customer, &id, "payment_failed").await;
    let until = instant(&order(&app, &customer, &id).await["payment_retry_until"]);

    // The sweep, driven past the window rather than waited for.
    let orders = app.service::<ordo_orders::Orders>();
    let before = until - Duration::from_secs(1);
    assert_eq!(orders.close_retry_windows(before).await.unwrap(), 0);
    assert_eq!(stock(&app, &shop, &pizza).await, (10, 2, 8));
    assert_eq!(orders.close_retry_windows(until).await.unwrap(), 1);
    assert_eq!(orders.close_retry_windows(until).await.unwrap(), 0, "once");
    let cancelled = order(&app, &customer, &id).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["payment_failure"], Value::Null);
    let history = json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/history")));
    assert_eq!(
        history.await[2]["cause"],
        "no other card was tried in time",
        "said in words"
    );
    app.eventually("the stock is given back", || async {
        stock(&app, &shop, &pizza).await == (10, 0, 10)
    })
    .await;

    // Too late for another card.
    let good = card(&app, &customer, GOOD_CARD).await;
    let late = retry(&app, &customer, &id, &json!({"payment_method_id": good}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::CONFLICT);
    problem(late).await;
    app.stop().await;
}

backend_test!(second_card, a_declined_order_is_paid_with_another_card);
backend_test!(
    retry_window,
    a_window_that_closes_cancels_the_order_and_frees_its_stock
);
