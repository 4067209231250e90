//! Checkout and orders over HTTP: prices from the catalogue, stock reserved all or nothing,
//! `Idempotency-Key` semantics, other people's orders invisible, payment outcomes moving
//! orders (payments are published here as the payments service will publish them).

use ordo_bus::{EventMeta, Outbox};
use ordo_contracts::Event;
use ordo_contracts::inventory::ReservationCommitted;
use ordo_db::{FromRow, Row, params};
use ordo_e2e::fixtures::{GOOD_CARD, card, order_request, pickup, shop, status, stock};
use ordo_e2e::{TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub(crate) async fn checkout_prices_reserves_and_replays(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let (pizza, soup) = (&shop.pizza.0, &shop.soup.0);
    let body = pickup(
        json!([
            {"product_id": pizza, "quantity": 2},
            {"product_id": soup, "quantity": 1},
            {"product_id": pizza, "quantity": 1}
        ]),
        &method,
    );

    let no_key = app
        .as_user(&customer, Method::POST, "/orders")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::BAD_REQUEST);
    assert!(
        problem(no_key).await["type"]
            .as_str()
            .unwrap()
            .ends_with("idempotency-key-required")
    );

    let created = order_request(&app, &customer, "key-1", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let order: Value = created.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/orders/{}", order["id"].as_str().unwrap())
    );
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["merchant_id"], shop.merchant_id.as_str());
    assert_eq!(
        order["total"],
        json!({"amount": 3 * 950 + 600, "currency": "EUR"})
    );
    assert_eq!(order["lines"][0]["line_total"]["amount"], 1900);
    // Held, or already committed once the sandbox authorised the payment.
    assert_eq!(
        stock(&app, &shop, pizza).await.2,
        7,
        "two lines of one product, added up"
    );
    assert_eq!(stock(&app, &shop, soup).await.2, 9);

    // The same key and body: the first answer again, nothing new held.
    let reordered = json!({"payment_method_id": body["payment_method_id"], "fulfilment": "pickup", "items": body["items"]});
    for again in [&body, &reordered] {
        let replay = order_request(&app, &customer, "key-1", again)
            .send()
            .await
            .unwrap();
        assert_eq!(replay.status(), StatusCode::CREATED);
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        let replayed: Value = replay.json().await.unwrap();
        assert_eq!(replayed["id"], order["id"]);
    }
    assert_eq!(stock(&app, &shop, pizza).await.2, 7);
    assert_eq!(app.count("orders", "orders").await, 1);

    // The same key with another body.
    let other = pickup(json!([{"product_id": soup, "quantity": 1}]), &method);
    let reused = order_request(&app, &customer, "key-1", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem(reused).await["type"]
            .as_str()
            .unwrap()
            .ends_with("idempotency-key-reused")
    );

    // Invalid requests are not stored: the key stays free.
    let invalid_bodies = [
        pickup(json!([{"product_id": pizza, "quantity": 0}]), &method),
        pickup(
            json!([{"product_id": pizza, "quantity": 1, "price": 1}]),
            &method,
        ),
        json!({"items": [{"product_id": pizza, "quantity": 1}], "fulfilment": "pickup", "payment_method_id": method, "status": "paid"}),
        pickup(
            json!([{"product_id": Uuid::now_v7(), "quantity": 1}]),
            &method,
        ),
        json!({"items": [{"product_id": pizza, "quantity": 1}], "fulfilment": "delivery", "payment_method_id": method}),
        pickup(json!([]), &method),
    ];
    for invalid in &invalid_bodies {
        let refused = order_request(&app, &customer, "key-2", invalid)
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{invalid}"
        );
        problem(refused).await;
    }
    let fixed = order_request(&app, &customer, "key-2", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), StatusCode::CREATED);
    assert!(fixed.headers().get("idempotent-replayed").is_none());

    // One merchant per order, named.
    let elsewhere = self::shop(&app, 5).await;
    let mixed = order_request(
        &app,
        &customer,
        "key-3",
        &pickup(json!([
            {"product_id": pizza, "quantity": 1}, {"product_id": elsewhere.pizza.0, "quantity": 1}
        ]), &method),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(mixed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail = problem(mixed).await["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains(&shop.merchant_id) && detail.contains(&elsewhere.merchant_id),
        "{detail}"
    );

    // Out of stock names the items, holds nothing, and the key may be used again.
    let greedy = pickup(
        json!([{"product_id": pizza, "quantity": 8}, {"product_id": soup, "quantity": 1}]),
        &method,
    );
    let short = order_request(&app, &customer, "key-4", &greedy)
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), StatusCode::CONFLICT);
    let short = problem(short).await;
    assert!(short["type"].as_str().unwrap().ends_with("out-of-stock"));
    assert!(short["detail"].as_str().unwrap().contains("Margherita"));
    assert_eq!(short["items"][0]["available"], 7);
    assert_eq!(stock(&app, &shop, soup).await.2, 8, "nothing held for it");
    app.as_user(
        &shop.owner,
        Method::PUT,
        &format!("/products/{pizza}/stock"),
    )
    .json(&json!({"on_hand": 20}))
    .send()
    .await
    .unwrap();
    let restocked = order_request(&app, &customer, "key-4", &greedy)
        .send()
        .await
        .unwrap();
    assert_eq!(restocked.status(), StatusCode::CREATED);

    // Delivery to an address given in the request.
    let delivery = json!({
        "items": [{"product_id": soup, "quantity": 1}], "fulfilment": "delivery", "payment_method_id": method,
        "tip": 150, "address": {"line1": "Kastanienallee 1", "city": "Berlin", "postal_code": "10435", "country": "de", "lat": 52.54, "lon": 13.41}
    });
    let delivered = json_of(order_request(&app, &customer, "key-5", &delivery)).await;
    assert_eq!(delivered["address"]["country"], "DE");
    assert_eq!(delivered["total"]["amount"], 750);

    let mine = json_of(app.as_user(&customer, Method::GET, "/orders")).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 4);
    assert_eq!(mine["items"][0]["id"], delivered["id"], "newest first");
    app.stop().await;
}

async fn other_peoples_orders_do_not_exist(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let order = json_of(order_request(
        &app,
        &customer,
        "k",
        &pickup(
            json!([{"product_id": shop.pizza.0, "quantity": 1}]),
            &method,
        ),
    ))
    .await;
    let id = order["id"].as_str().unwrap();

    let stranger = app.signup("customer").await;
    let rival = app.signup("merchant").await;
    let paths = [
        format!("/orders/{id}"),
        format!("/orders/{id}/status"),
        format!("/orders/{id}/history"),
    ];
    for who in [&stranger, &rival] {
        for path in &paths {
            let response = app.as_user(who, Method::GET, path).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            problem(response).await;
        }
        let cancel = app
            .as_user(who, Method::POST, &format!("/orders/{id}/cancel"))
            .send()
            .await
            .unwrap();
        assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        json_of(app.as_user(&stranger, Method::GET, "/orders")).await["items"],
        json!([])
    );
    let admin = app.admin().await;
    for who in [&customer, &shop.owner, &admin] {
        for path in &paths {
            assert_eq!(
                app.as_user(who, Method::GET, path)
                    .send()
                    .await
                    .unwrap()
                    .status(),
                StatusCode::OK,
                "{path}"
            );
        }
    }
    let status =
        json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/status"))).await;
    assert!(
        status["status"] == "pending_payment" || status["status"] == "paid",
        "{status}"
    );
    let history =
        json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/history"))).await;
    assert_eq!(history[0]["to"], "pending_payment");
    assert_eq!(history[0]["actor"], "customer");
    assert_eq!(
        app.as_user(&shop.owner, Method::GET, "/orders")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

async fn only_the_customers_own_cards_pay(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let other = app.signup("customer").await;
    let theirs = card(&app, &other, GOOD_CARD).await;
    let removed = card(&app, &customer, GOOD_CARD).await;
    let remove = app
        .as_user(
            &customer,
            Method::DELETE,
            &format!("/me/payment-methods/{removed}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(remove.status(), StatusCode::NO_CONTENT);
    let items = json!([{"product_id": shop.pizza.0, "quantity": 2}]);

    for (why, method) in [
        ("another customer's", theirs),
        ("removed", removed),
        ("unknown", Uuid::now_v7().to_string()),
    ] {
        let refused = order_request(&app, &customer, "mine", &pickup(items.clone(), &method))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        assert_eq!(
            problem(refused).await["errors"][0]["field"],
            "payment_method_id",
            "{why}"
        );
    }
    assert_eq!(
        stock(&app, &shop, &shop.pizza.0).await,
        (10, 0, 10),
        "nothing reserved"
    );
    assert_eq!(app.count("inventory", "reservations").await, 0);
    assert_eq!(app.count("orders", "orders").await, 0);

    // The key was never taken: the same request with the customer's own card goes through.
    let own = card(&app, &customer, GOOD_CARD).await;
    let placed = order_request(&app, &customer, "mine", &pickup(items, &own))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    app.stop().await;
}

async fn scarce_stock_under_concurrency(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.rate_limit.enabled = false).await;
    let shop = shop(&app, 50).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    // The pizza in one row; the soup in eight slots (7, 7, 6, …), ordered two at a time, so
    // that the last units of the slots of 7 sell only merged.
    let slots = app
        .as_user(
            &shop.owner,
            Method::PUT,
            &format!("/products/{}/stock", shop.soup.0),
        )
        .json(&json!({"on_hand": 50, "slots": 8}));
    assert_eq!(json_of(slots).await["slots"], 8);
    for (product, quantity) in [(&shop.pizza.0, 1), (&shop.soup.0, 2)] {
        let body = pickup(
            json!([{"product_id": product, "quantity": quantity}]),
            &method,
        );
        let mut requests = tokio::task::JoinSet::new();
        for n in 0..200 {
            let key = format!("rush-{product}-{n}");
            let request = order_request(&app, &customer, &key, &body);
            requests.spawn(async move { request.send().await.unwrap().status() });
        }
        let (mut created, mut conflict) = (0, 0);
        while let Some(status) = requests.join_next().await {
            match status.unwrap() {
                StatusCode::CREATED => created += 1,
                StatusCode::CONFLICT => conflict += 1,
                other => panic!("unexpected {other}"),
            }
        }
        let sold = 50 / quantity;
        assert_eq!((created, conflict), (sold, 200 - sold));
        assert_eq!(
            stock(&app, &shop, product).await.2,
            0,
            "never negative, none left"
        );
    }
    assert_eq!(app.count("orders", "orders").await, 75);
    app.eventually("every order is paid and its stock committed", || async {
        stock(&app, &shop, &shop.pizza.0).await == (0, 0, 0)
            && stock(&app, &shop, &shop.soup.0).await == (0, 0, 0)
    })
    .await;
    app.stop().await;
}

/// Publishes what another service (payments, inventory) would, from a database the
/// platform relays: a late or repeated event about the order, in its source's name.
async fn pay<E: Event>(app: &TestApp, order_id: Uuid, event: &E) -> Uuid {
    let outbox = Outbox::new(E::SOURCE, app.databases["identity"].clone());
    let mut tx = outbox.db().begin().await.unwrap();
    let id = outbox
        .append(&mut tx, &order_id.to_string(), event, &EventMeta::default())
        .await
        .unwrap();
    outbox.commit(tx).await.unwrap();
    id
}

async fn handled_by_orders(app: &TestApp, event_id: Uuid) -> bool {
    let (count,): (i64,) = app.databases["orders"]
        .fetch_one(
            "SELECT COUNT(*) FROM bus_inbox WHERE event_id = $1",
            params![event_id],
        )
        .await
        .unwrap();
    count == 1
}

async fn payments_move_orders_and_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let pizza = shop.pizza.0.clone();
    let place = |key: &'static str, method: String| {
        order_request(
            &app,
            &customer,
            key,
            &pickup(json!([{"product_id": pizza, "quantity": 2}]), &method),
        )
    };
    let status = |id: Uuid| {
        let request = app.as_user(&customer, Method::GET, &format!("/orders/{id}/status"));
        async move {
            json_of(request).await["status"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let history =
        |id: Uuid| json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/history")));
    let id_of = |order: &Value| order["id"].as_str().unwrap().parse::<Uuid>().unwrap();

    // A card that works: paid, the stock leaves the shelf.
    let good = card(&app, &customer, GOOD_CARD).await;
    let paid = id_of(&json_of(place("p1", good.clone())).await);
    app.eventually("the order is paid", || async {
        status(paid).await == "paid"
    })
    .await;
    app.eventually("the stock is committed", || async {
        stock(&app, &shop, &pizza).await == (8, 0, 8)
    })
    .await;
    let steps = history(paid).await;
    assert_eq!(
        (steps[1]["from"].as_str(), steps[1]["to"].as_str()),
        (Some("pending_payment"), Some("paid"))
    );
    assert_eq!(steps[1]["actor"], "system");

    // Declined, or not enough money: waiting for another card with the reason in words, the
    // stock held; cancelled by its customer, the stock back.
    for (key, number, reason, words) in [
        (
            "p2",
            "4000000000000002",
            "card_declined",
            "Your card was declined. Choose another card to place this order.",
        ),
        (
            "p3",
            "4000000000009995",
            "insufficient_funds",
            "Your card has insufficient funds. Choose another card to place this order.",
        ),
    ] {
        let method = card(&app, &customer, number).await;
        let declined = id_of(&json_of(place(key, method)).await);
        app.eventually("the payment is declined", || async {
            status(declined).await == "payment_failed"
        })
        .await;
        assert_eq!(stock(&app, &shop, &pizza).await, (8, 2, 6), "still held");
        let order = json_of(app.as_user(&customer, Method::GET, &format!("/orders/{declined}")));
        assert_eq!(order.await["payment_failure"], words);
        assert_eq!(
            history(declined).await[1]["cause"],
            format!("payment failed: {reason}")
        );
        let cancelled = app.as_user(
            &customer,
            Method::POST,
            &format!("/orders/{declined}/cancel"),
        );
        assert_eq!(json_of(cancelled).await["status"], "cancelled");
        app.eventually("the hold is released", || async {
            stock(&app, &shop, &pizza).await == (8, 0, 8)
        })
        .await;
    }

    // Paid, then cancelled before the merchant accepts: the units return, the
    // authorisation is voided; a confirmation arriving late changes nothing.
    let regretted = id_of(&json_of(place("p4", good)).await);
    app.eventually("the order is paid", || async {
        status(regretted).await == "paid"
    })
    .await;
    let cancelled = json_of(app.as_user(
        &customer,
        Method::POST,
        &format!("/orders/{regretted}/cancel"),
    ))
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    app.eventually("the units are back", || async {
        stock(&app, &shop, &pizza).await == (8, 0, 8)
    })
    .await;
    app.eventually("the authorisation is voided", || async {
        payment_status(&app, regretted).await == "voided"
    })
    .await;
    let late = ReservationCommitted {
        order_id: regretted,
    };
    let late = pay(&app, regretted, &late).await;
    app.eventually("the late event is handled", || async {
        handled_by_orders(&app, late).await
    })
    .await;
    assert_eq!(status(regretted).await, "cancelled");
    let again = app
        .as_user(
            &customer,
            Method::POST,
            &format!("/orders/{regretted}/cancel"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    problem(again).await;
    app.stop().await;
}

async fn payment_status(app: &TestApp, order_id: Uuid) -> String {
    app.databases["payments"]
        .fetch_optional(
            "SELECT status FROM payments WHERE order_id = $1",
            params![order_id],
        )
        .await
        .unwrap()
        .map(|(status,)| status)
        .unwrap_or_default()
}

/// A row of `SELECT *`, kept whole: which columns it has is what the test looks at.
struct Whole(Row);

impl FromRow for Whole {
    fn from_row(row: Row) -> Result<Self, ordo_db::Error> {
        Ok(Whole(row))
    }
}

async fn cards_are_kept_as_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customer = app.signup("customer").await;
    let id = card(&app, &customer, "4242 4242 4242 4242").await;
    // A second card: the list is a page, newest first.
    let second = card(&app, &customer, "4000000000000002").await;
    let listed = json_of(app.as_user(&customer, Method::GET, "/me/payment-methods?limit=1")).await;
    assert_eq!(listed["items"][0]["id"], second.as_str());
    assert_eq!(
        listed["items"][0]["default"], true,
        "the newest is the default"
    );
    let cursor = listed["next_cursor"].as_str().expect("a second page");
    let rest = json_of(app.as_user(
        &customer,
        Method::GET,
        &format!("/me/payment-methods?limit=1&cursor={cursor}"),
    ))
    .await;
    assert_eq!(rest["items"][0]["brand"], "visa");
    assert_eq!(rest["items"][0]["last4"], "4242");
    assert_eq!(rest["items"][0]["default"], false);
    assert_eq!(rest["next_cursor"], Value::Null);
    let Whole(mut row) = app.databases["payments"]
        .fetch_one("SELECT * FROM payment_methods", params![])
        .await
        .unwrap();
    for column in ["cvc", "number", "card_number"] {
        // Any value reads as a `Value`: only a missing column fails.
        assert!(
            row.get::<ordo_db::Value>(column).is_err(),
            "payment_methods has a `{column}` column"
        );
    }
    let token: String = row.get("token").unwrap();
    assert!(!token.contains("4242424242424242"));

    for (body, field) in [
        (
            json!({"card_number": "4242424242424241", "exp_month": 12, "exp_year": 2035, "cvc": "123"}),
            "card_number",
        ),
        (
            json!({"card_number": "4242424242424242", "exp_month": 1, "exp_year": 2020, "cvc": "123"}),
            "exp_year",
        ),
        (
            json!({"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "1"}),
            "cvc",
        ),
    ] {
        let refused = app
            .as_user(&customer, Method::POST, "/me/payment-methods")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem(refused).await["errors"][0]["field"], field);
    }
    let merchant = app.signup("merchant").await;
    let body =
        json!({"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"});
    assert_eq!(
        app.as_user(&merchant, Method::POST, "/me/payment-methods")
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let stranger = app.signup("customer").await;
    assert_eq!(
        app.as_user(
            &stranger,
            Method::DELETE,
            &format!("/me/payment-methods/{id}")
        )
        .send()
        .await
        .unwrap()
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.as_user(
            &customer,
            Method::DELETE,
            &format!("/me/payment-methods/{id}")
        )
        .send()
        .await
        .unwrap()
        .status(),
        StatusCode::NO_CONTENT
    );
    let left = json_of(app.as_user(&customer, Method::GET, "/me/payment-methods")).await;
    assert_eq!(
        left["items"].as_array().map(Vec::len),
        Some(1),
        "one card left"
    );
    assert_eq!(left["items"][0]["id"], second.as_str());
    assert_eq!(left["items"][0]["default"], true);
    // A card added is the newest: the default from now on.
    let newest = json_of(
        app.as_user(&customer, Method::POST, "/me/payment-methods")
            .json(&body),
    )
    .await;
    assert_eq!(newest["default"], true);
    let listed = json_of(app.as_user(&customer, Method::GET, "/me/payment-methods")).await;
    let defaults: Vec<(&str, bool)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["default"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        defaults,
        [
            (newest["id"].as_str().unwrap(), true),
            (second.as_str(), false)
        ]
    );
    app.stop().await;
}

/// Operators count the orders under way by status, with the longest wait in each; what has
/// ended is not counted, and nobody else may look.
async fn operators_count_the_orders_under_way(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let mut placed = Vec::new();
    for key in ["a", "b", "c"] {
        let body = pickup(
            json!([{"product_id": shop.pizza.0, "quantity": 1}]),
            &method,
        );
        let order = json_of(order_request(&app, &customer, key, &body)).await;
        placed.push(order["id"].as_str().unwrap().to_owned());
    }
    app.eventually("the three are paid", || async {
        for id in &placed {
            if status(&app, &customer, id).await != "paid" {
                return false;
            }
        }
        true
    })
    .await;
    let act = |id: &str, action: &str| {
        app.as_user(&shop.owner, Method::POST, &format!("/orders/{id}/{action}"))
    };
    assert_eq!(
        act(&placed[0], "accept").send().await.unwrap().status(),
        StatusCode::OK
    );
    let cancelled = app
        .as_user(
            &customer,
            Method::POST,
            &format!("/orders/{}/cancel", placed[1]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);

    let admin = app.admin().await;
    let open = json_of(app.as_user(&admin, Method::GET, "/admin/orders/open")).await;
    let statuses = open["statuses"].as_array().unwrap();
    let counted: Vec<(&str, i64)> = statuses
        .iter()
        .map(|s| (s["status"].as_str().unwrap(), s["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(counted, [("paid", 1), ("accepted", 1)], "{open}");
    let paid_order =
        json_of(app.as_user(&admin, Method::GET, &format!("/orders/{}", placed[2]))).await;
    assert_eq!(
        time::OffsetDateTime::parse(
            statuses[0]["oldest_since"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .unwrap(),
        time::OffsetDateTime::parse(
            paid_order["updated_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .unwrap(),
        "the paid one has waited since it was paid"
    );
    for nosy in [&customer, &shop.owner] {
        let refused = app
            .as_user(nosy, Method::GET, "/admin/orders/open")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        problem(refused).await;
    }
    app.stop().await;
}

backend_test!(checkout, checkout_prices_reserves_and_replays);
backend_test!(order_visibility, other_peoples_orders_do_not_exist);
backend_test!(own_cards, only_the_customers_own_cards_pay);
backend_test!(scarce_stock, scarce_stock_under_concurrency);
backend_test!(payment_outcomes, payments_move_orders_and_stock);
backend_test!(payment_methods, cards_are_kept_as_tokens);
backend_test!(open_counts, operators_count_the_orders_under_way);
