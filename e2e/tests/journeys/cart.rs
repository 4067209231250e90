//! The cart: one merchant's products, priced from the catalogue when read, ordered with
//! `from_cart`, and what the order took leaves it once the order is paid; in the database
//! on both backends, and in Redis.

use ordo_e2e::fixtures::{
    DECLINED_CARD, card, order_request, paid_with_another_card, shop, status,
};
use ordo_e2e::{TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn a_cart_is_priced_now_and_ordered_whole(backend: Backend) {
    ordered_whole(TestApp::spawn(backend).await).await;
}

/// The same journey with carts in Redis, on PostgreSQL and NATS as a scale-out platform.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carts_in_redis_are_priced_now_and_ordered_whole() {
    let Some(backend) = ordo_testkit::postgres("carts_in_redis") else {
        return;
    };
    if ordo_testkit::nats("carts_in_redis").is_none()
        || ordo_testkit::redis("carts_in_redis").is_none()
    {
        return;
    }
    let app = TestApp::spawn_with(backend, |config| {
        config.cart.store = ordo_cart::CartStore::Redis;
    })
    .await;
    ordered_whole(app).await;
}

async fn ordered_whole(app: TestApp) {
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let (pizza, soup) = (shop.pizza.0.clone(), shop.soup.0.clone());
    let add = |product: &str, quantity: i64| {
        app.as_user(&customer, Method::POST, "/cart/items")
            .json(&json!({"product_id": product, "quantity": quantity}))
    };
    assert_eq!(
        add(&pizza, 2).send().await.unwrap().status(),
        StatusCode::OK
    );
    add(&soup, 1).send().await.unwrap();
    let cart = json_of(add(&pizza, 1)).await;
    assert_eq!(cart["items"][0]["quantity"], 3, "adding adds up");
    assert_eq!(cart["items"][0]["line_total"]["amount"], 2850);
    assert_eq!(
        cart["subtotals"],
        json!([{"amount": 3450, "currency": "EUR"}])
    );
    assert_eq!(cart["merchants"], json!([shop.merchant_id]));

    // The price is the catalogue's at the time the cart is read.
    let reprice = app
        .as_user(&shop.owner, Method::PATCH, &format!("/products/{pizza}"))
        .json(&json!({"price": {"amount": 1000, "currency": "EUR"}}));
    assert_eq!(reprice.send().await.unwrap().status(), StatusCode::OK);
    let cart = json_of(app.as_user(&customer, Method::GET, "/cart")).await;
    assert_eq!(cart["items"][0]["unit_price"]["amount"], 1000);

    // Changing, removing, and what is refused.
    let set = app
        .as_user(&customer, Method::PATCH, &format!("/cart/items/{soup}"))
        .json(&json!({"quantity": 2}));
    assert_eq!(json_of(set).await["items"][1]["quantity"], 2);
    for (request, status) in [
        (add(&pizza, 0), StatusCode::UNPROCESSABLE_ENTITY),
        (
            add(&uuid::Uuid::now_v7().to_string(), 1),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (add(&pizza, 998), StatusCode::CONFLICT),
        (
            app.as_user(
                &customer,
                Method::PATCH,
                &format!("/cart/items/{}", uuid::Uuid::now_v7()),
            )
            .json(&json!({"quantity": 1})),
            StatusCode::NOT_FOUND,
        ),
        (
            app.as_user(&shop.owner, Method::GET, "/cart"),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status);
        problem(response).await;
    }

    // Another merchant's product is refused, saying whose the cart holds; nothing changes.
    let elsewhere = self::shop(&app, 5).await;
    let mixed = add(&elsewhere.pizza.0, 1).send().await.unwrap();
    assert_eq!(mixed.status(), StatusCode::CONFLICT);
    let mixed = problem(mixed).await;
    assert!(
        mixed["type"]
            .as_str()
            .unwrap()
            .ends_with("cart-other-merchant"),
        "{mixed}"
    );
    assert_eq!(mixed["merchant_id"], shop.merchant_id.as_str());
    assert_eq!(
        mixed["detail"],
        "Your cart holds items from Trattoria; one merchant per order. Empty the cart to order from another merchant."
    );
    let cart = json_of(app.as_user(&customer, Method::GET, "/cart")).await;
    assert_eq!(cart["merchants"], json!([shop.merchant_id]));
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(2));

    // Ordered from the cart with a card that is declined: the cart stays as it was, and
    // what is added meanwhile too.
    let declined = card(&app, &customer, DECLINED_CARD).await;
    let pay_with = |method: &str| json!({"from_cart": true, "fulfilment": "pickup", "payment_method_id": method});
    let order = json_of(order_request(&app, &customer, "c2", &pay_with(&declined))).await;
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["total"]["amount"], 3 * 1000 + 2 * 600);
    let id = order["id"].as_str().unwrap().to_owned();
    app.eventually("the payment is declined", || async {
        status(&app, &customer, &id).await == "payment_failed"
    })
    .await;
    add(&soup, 1).send().await.unwrap();
    let cart = json_of(app.as_user(&customer, Method::GET, "/cart")).await;
    assert_eq!(cart["items"][0]["quantity"], 3, "the cart is kept");
    assert_eq!(cart["items"][1]["quantity"], 3);

    // Paid with another card: what the order took leaves the cart, the soup added since
    // stays.
    let method = paid_with_another_card(&app, &customer, &id).await;
    app.eventually("what was ordered leaves the cart", || async {
        let cart = json_of(app.as_user(&customer, Method::GET, "/cart")).await;
        cart["items"].as_array().map(Vec::len) == Some(1)
    })
    .await;
    let cart = json_of(app.as_user(&customer, Method::GET, "/cart")).await;
    assert_eq!(cart["items"][0]["product_id"], soup.as_str());
    assert_eq!(cart["items"][0]["quantity"], 1);
    let from_cart = pay_with(&method);
    let cleared = app.as_user(&customer, Method::DELETE, "/cart");
    assert_eq!(
        cleared.send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );

    // The cart emptied, another merchant's products are welcome.
    assert_eq!(
        add(&elsewhere.pizza.0, 1).send().await.unwrap().status(),
        StatusCode::OK
    );
    let removed = app.as_user(
        &customer,
        Method::DELETE,
        &format!("/cart/items/{}", elsewhere.pizza.0),
    );
    assert_eq!(
        removed.send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let empty = order_request(&app, &customer, "c3", &from_cart)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(empty).await["errors"][0]["field"], "from_cart");
    let both = json!({"from_cart": true, "items": [{"product_id": pizza, "quantity": 1}], "fulfilment": "pickup", "payment_method_id": method});
    assert_eq!(
        order_request(&app, &customer, "c4", &both)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // An order of other items leaves the cart alone.
    add(&soup, 1).send().await.unwrap();
    let direct = json!({"items": [{"product_id": pizza, "quantity": 1}], "fulfilment": "pickup", "payment_method_id": method});
    let placed = json_of(order_request(&app, &customer, "c5", &direct)).await;
    let id = placed["id"].as_str().unwrap().to_owned();
    app.eventually("the order is paid", || async {
        json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/status"))).await["status"] == "paid"
    })
    .await;
    assert_eq!(
        json_of(app.as_user(&customer, Method::GET, "/cart")).await["items"][0]["quantity"],
        1
    );
    let cleared = app.as_user(&customer, Method::DELETE, "/cart");
    assert_eq!(
        cleared.send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    app.stop().await;
}

backend_test!(cart_checkout, a_cart_is_priced_now_and_ordered_whole);
