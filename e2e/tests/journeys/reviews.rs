//! Reviews: a customer reviews a completed order of theirs once; someone else's order, or
//! one not completed yet, is refused; a comment is public only once approved, and then
//! moves the merchant's and the product's average; a bare rating is public at once; the
//! merchant answers once. A product ordered on several lines is rated once.

use ordo_db::params;
use ordo_e2e::fixtures::{
    GOOD_CARD, card, complete, order_request, paid_order, pickup, shop, status,
};
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// Sends a review until the reviews service has heard of the order as the test expects:
/// it learns of orders from the bus.
async fn review_once_heard(
    app: &TestApp,
    who: &Session,
    order: &str,
    body: &Value,
    expected: StatusCode,
) -> Value {
    let answer = tokio::sync::Mutex::new(Value::Null);
    app.eventually("the review is answered as expected", || async {
        let response = app
            .as_user(who, Method::POST, &format!("/orders/{order}/review"))
            .json(body)
            .send()
            .await
            .unwrap();
        let got = response.status();
        *answer.lock().await = response.json().await.unwrap_or(Value::Null);
        got == expected
    })
    .await;
    answer.into_inner()
}

async fn public(app: &TestApp, path: &str) -> Value {
    json_of(app.api(Method::GET, path)).await
}

async fn reviewed_once_and_moderated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let stranger = app.signup("customer").await;
    let rival = app.signup("merchant").await;
    let admin = app.admin().await;
    let order = paid_order(&app, &shop, &customer, "review-1").await;
    let review = |who: &Session, body: Value| {
        app.as_user(who, Method::POST, &format!("/orders/{order}/review"))
            .json(&body)
    };

    // Not completed yet: refused, and nothing is written.
    let early = review_once_heard(
        &app,
        &customer,
        &order,
        &json!({"rating": 4}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        early["type"],
        "https://ordo.dev/problems/order-not-completed"
    );
    let out_of_range = review(&customer, json!({"rating": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(out_of_range.status(), StatusCode::UNPROCESSABLE_ENTITY);
    problem(out_of_range).await;
    let not_theirs = review(&stranger, json!({"rating": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_theirs.status(), StatusCode::NOT_FOUND);
    problem(not_theirs).await;

    complete(&app, &shop, &order).await;
    let body = json!({"rating": 2, "comment": "  The pizza came cold.  "});
    let made = review_once_heard(&app, &customer, &order, &body, StatusCode::CREATED).await;
    assert_eq!(made["status"], "pending");
    assert_eq!(made["comment"], "The pizza came cold.");
    assert_eq!(made["product_ids"], json!([shop.pizza.0]));
    let id = made["id"].as_str().unwrap().to_owned();
    let again = review(&customer, json!({"rating": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT, "once per order");
    problem(again).await;

    // Pending: not public, and only administrators see the queue.
    let merchant_reviews = format!("/merchants/{}/reviews", shop.merchant_id);
    let before = public(&app, &merchant_reviews).await;
    assert_eq!(before["items"], json!([]));
    assert_eq!(before["rating"], json!({"average": 0.0, "count": 0}));
    let forbidden = app
        .as_user(&customer, Method::GET, "/admin/reviews")
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let queue = json_of(app.as_user(&admin, Method::GET, "/admin/reviews?status=pending")).await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );
    let unknown = app
        .as_user(&admin, Method::GET, "/admin/reviews?status=published")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let approve = format!("/admin/reviews/{id}/approve");
    let approved = json_of(app.as_user(&admin, Method::POST, &approve)).await;
    assert_eq!(approved["status"], "approved");
    let twice = app
        .as_user(&admin, Method::POST, &approve)
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    let rejected_late = app
        .as_user(&admin, Method::POST, &format!("/admin/reviews/{id}/reject"))
        .send()
        .await
        .unwrap();
    assert_eq!(rejected_late.status(), StatusCode::CONFLICT);
    let after = public(&app, &merchant_reviews).await;
    assert_eq!(after["items"][0]["id"], id.as_str());
    assert_eq!(after["rating"], json!({"average": 2.0, "count": 1}));
    let product = public(&app, &format!("/products/{}/reviews", shop.pizza.0)).await;
    assert_eq!(product["rating"], json!({"average": 2.0, "count": 1}));

    // The merchant answers, once; another merchant cannot see the review to answer it.
    let answer = format!("/reviews/{id}/answer");
    let theirs = app
        .as_user(&rival, Method::POST, &answer)
        .json(&json!({"text": "Sorry!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let answered = json_of(
        app.as_user(&shop.owner, Method::POST, &answer)
            .json(&json!({"text": "Sorry, it will not happen again."})),
    )
    .await;
    assert_eq!(answered["answer"], "Sorry, it will not happen again.");
    let second = app
        .as_user(&shop.owner, Method::POST, &answer)
        .json(&json!({"text": "Really sorry."}))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::CONFLICT);

    // A bare rating has nothing to moderate: public at once. The customer writes it before
    // the reviews service has the order's events (its copy is taken away here, once it
    // came, so that the moment is the same on every run): the orders service answers.
    let next = paid_order(&app, &shop, &customer, "review-2").await;
    complete(&app, &shop, &next).await;
    let reviews_db = &app.databases["reviews"];
    let heard = "SELECT COUNT(*) FROM purchases WHERE order_id = $1 AND completed_at IS NOT NULL";
    let next_id: Uuid = next.parse().unwrap();
    app.eventually("the reviews service heard of the completion", || async {
        let (count,): (i64,) = reviews_db.fetch_one(heard, params![next_id]).await.unwrap();
        count == 1
    })
    .await;
    reviews_db
        .execute(
            "DELETE FROM purchases WHERE order_id = $1",
            params![next_id],
        )
        .await
        .unwrap();
    let bare = json_of(
        app.as_user(&customer, Method::POST, &format!("/orders/{next}/review"))
            .json(&json!({"rating": 5})),
    )
    .await;
    assert_eq!(bare["status"], "approved");
    let both = public(&app, &merchant_reviews).await;
    assert_eq!(both["rating"], json!({"average": 3.5, "count": 2}));
    assert_eq!(both["items"][0]["id"], bare["id"], "newest first");
}
backend_test!(reviewed_once, reviewed_once_and_moderated);

async fn a_product_on_two_lines_is_rated_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let items = json!([
        {"product_id": shop.pizza.0, "quantity": 1},
        {"product_id": shop.pizza.0, "quantity": 2},
    ]);
    let order = json_of(order_request(
        &app,
        &customer,
        "twice",
        &pickup(items, &method),
    ))
    .await;
    let order = order["id"].as_str().unwrap().to_owned();
    app.eventually("the order is paid", || async {
        status(&app, &customer, &order).await == "paid"
    })
    .await;
    complete(&app, &shop, &order).await;

    let made = review_once_heard(
        &app,
        &customer,
        &order,
        &json!({"rating": 5}),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["product_ids"], json!([shop.pizza.0]));
    let product = public(&app, &format!("/products/{}/reviews", shop.pizza.0)).await;
    assert_eq!(product["rating"], json!({"average": 5.0, "count": 1}));
    app.stop().await;
}
backend_test!(one_product_two_lines, a_product_on_two_lines_is_rated_once);
