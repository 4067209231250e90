//! Operators find any order — by its id, the beginning of it or its reference, its
//! customer's email or name, its merchant's name, with filters — and read its whole
//! timeline: every step in every service, in time order, with trace ids.

use ordo_e2e::fixtures::{
    DECLINED_CARD, GOOD_CARD, card, courier_at, order_request, paid_order, paid_with_another_card,
    pickup, shop, status,
};
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn find(app: &TestApp, admin: &Session, query: &[(&str, &str)]) -> Value {
    let found = app
        .as_user(admin, Method::GET, "/admin/orders")
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), StatusCode::OK, "{query:?}");
    found.json().await.unwrap()
}

async fn ids(app: &TestApp, admin: &Session, query: &[(&str, &str)]) -> Vec<String> {
    find(app, admin, query).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn rename(app: &TestApp, who: &Session, path: &str, name: &str) {
    let method = Method::PATCH;
    let renamed = app
        .as_user(who, method, path)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
}

async fn found_by_what_people_know_of_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let trattoria = shop(&app, 10).await;
    let bakery = shop(&app, 10).await;
    let bakery_path = format!("/merchants/{}", bakery.merchant_id);
    rename(&app, &bakery.owner, &bakery_path, "Backhaus Sonne").await;
    let ada = app.signup("customer").await;
    rename(&app, &ada, "/me", "Ada Lovelace").await;
    let bob = app.signup("customer").await;
    let first = paid_order(&app, &trattoria, &ada, "a1").await;
    let bobs = paid_order(&app, &bakery, &bob, "b1").await;
    let last = paid_order(&app, &bakery, &ada, "a2").await;
    let accepted = app
        .as_user(
            &bakery.owner,
            Method::POST,
            &format!("/orders/{last}/accept"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let admin = app.admin().await;

    // By the customer's email in any case, or part of her name: hers only, newest first.
    let email = ada.email.to_uppercase();
    assert_eq!(
        ids(&app, &admin, &[("q", &email)]).await,
        [last.as_str(), first.as_str()]
    );
    assert_eq!(
        ids(&app, &admin, &[("q", " loveLACE ")]).await,
        [last.as_str(), first.as_str()]
    );
    // By part of the merchant's name.
    assert_eq!(
        ids(&app, &admin, &[("q", "backhaus")]).await,
        [last.as_str(), bobs.as_str()]
    );
    // By its id as shown, without dashes in capitals, its reference, or its beginning.
    assert_eq!(ids(&app, &admin, &[("q", &first)]).await, [first.as_str()]);
    let bare = first.replace('-', "").to_uppercase();
    assert_eq!(ids(&app, &admin, &[("q", &bare)]).await, [first.as_str()]);
    assert!(
        ids(&app, &admin, &[("q", &first[28..])])
            .await
            .contains(&first)
    );
    let beginning = &first[..13];
    let begun = ids(&app, &admin, &[("q", beginning)]).await;
    assert!(begun.contains(&first), "{begun:?}");
    assert!(begun.iter().all(|id| id.starts_with(beginning)));
    assert!(
        ids(&app, &admin, &[("q", "nobody-at-all")])
            .await
            .is_empty()
    );
    // Wildcards are taken as typed.
    for wild in ["%%%%", "____", "%"] {
        assert!(ids(&app, &admin, &[("q", wild)]).await.is_empty(), "{wild}");
    }

    // Filters narrow it: status, merchant, placed from / to.
    let paid = [("q", email.as_str()), ("status", "paid")];
    assert_eq!(ids(&app, &admin, &paid).await, [first.as_str()]);
    let at_bakery = [("merchant_id", bakery.merchant_id.as_str())];
    assert_eq!(
        ids(&app, &admin, &at_bakery).await,
        [last.as_str(), bobs.as_str()]
    );
    let everyone = find(&app, &admin, &[("q", &email)]).await;
    let placed = |n: usize| {
        everyone["items"][n]["created_at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (newest, oldest) = (placed(0), placed(1));
    let upto = [("q", email.as_str()), ("to", oldest.as_str())];
    assert_eq!(ids(&app, &admin, &upto).await, [first.as_str()]);
    let since = [("q", email.as_str()), ("from", newest.as_str())];
    assert_eq!(ids(&app, &admin, &since).await, [last.as_str()]);

    // Each order names its customer and merchant; pages follow the cursor.
    let one = find(&app, &admin, &[("q", &email), ("limit", "1")]).await;
    assert_eq!(one["items"][0]["customer"]["name"], "Ada Lovelace");
    assert_eq!(one["items"][0]["customer"]["email"], ada.email);
    assert_eq!(one["items"][0]["merchant_name"], "Backhaus Sonne");
    assert_eq!(one["items"][0]["total"]["amount"], 950);
    let cursor = one["next_cursor"].as_str().unwrap();
    let next = [("q", email.as_str()), ("limit", "1"), ("cursor", cursor)];
    assert_eq!(ids(&app, &admin, &next).await, [first.as_str()]);

    // Nonsense is refused saying which filter; only operators look.
    let long = "x".repeat(101);
    for bad in [
        vec![("q", "   ")],
        vec![("q", long.as_str())],
        vec![("q", "ada\u{0}")],
        vec![("status", "lost")],
        vec![("from", "yesterday")],
        vec![("merchant_id", "not-a-uuid")],
        vec![("from", newest.as_str()), ("to", oldest.as_str())],
    ] {
        let refused = app
            .as_user(&admin, Method::GET, "/admin/orders")
            .query(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}"
        );
        problem(refused).await;
    }
    for nosy in [&ada, &bakery.owner] {
        let refused = app
            .as_user(nosy, Method::GET, "/admin/orders")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        problem(refused).await;
    }
    app.stop().await;
}

/// The kinds each service told, in the order the timeline gives them.
fn told<'a>(entries: &'a [Value], service: &str) -> Vec<&'a str> {
    entries
        .iter()
        .filter(|e| e["service"] == service)
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

async fn a_delivered_order_tells_every_step(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let courier = courier_at(&app, (52.501, 13.400)).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let body = json!({
        "items": [{"product_id": shop.pizza.0, "quantity": 2}],
        "fulfilment": "delivery",
        "address": {"line1": "Kastanienallee 77", "city": "Berlin", "postal_code": "10435",
                    "country": "DE", "lat": 52.51, "lon": 13.41},
        "payment_method_id": method,
    });
    let order = json_of(order_request(&app, &customer, "t1", &body)).await;
    let id = order["id"].as_str().unwrap().to_owned();
    app.eventually("the order is paid", || async {
        status(&app, &customer, &id).await == "paid"
    })
    .await;
    let act = |who: &Session, path: String| app.as_user(who, Method::POST, &path);
    let accepted = act(&shop.owner, format!("/orders/{id}/accept"))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let offers = || async {
        json_of(app.as_user(&courier, Method::GET, "/courier/offers")).await["items"][0].clone()
    };
    app.eventually("the courier is offered it", || async {
        !offers().await.is_null()
    })
    .await;
    let offer = offers().await;
    let offer_id = offer["id"].as_str().unwrap();
    let taken = act(&courier, format!("/courier/offers/{offer_id}/accept"))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::OK);
    let delivery_id = taken.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for step in ["ready", "picked-up"] {
        let done = act(&shop.owner, format!("/orders/{id}/{step}"))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), StatusCode::OK, "{step}");
    }
    app.eventually("the courier has it picked up", || async {
        let mine = json_of(app.as_user(&courier, Method::GET, "/courier/deliveries")).await;
        mine["items"][0]["status"] == "picked_up"
    })
    .await;
    let delivered = act(&courier, format!("/deliveries/{delivery_id}/delivered"))
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), StatusCode::OK);
    app.eventually("the order is completed", || async {
        status(&app, &customer, &id).await == "completed"
    })
    .await;

    let admin = app.admin().await;
    let path = format!("/admin/orders/{id}/timeline");
    let read = || async { json_of(app.as_user(&admin, Method::GET, &path)).await };
    app.eventually(
        "the payment is captured and the customer told of the delivery",
        || async {
            let timeline = read().await;
            let entries = timeline["entries"].as_array().cloned().unwrap_or_default();
            told(&entries, "payments").contains(&"captured")
                && entries
                    .iter()
                    .any(|e| e["kind"] == "order_delivered_in_app")
        },
    )
    .await;
    let timeline = read().await;
    assert_eq!(timeline["order"]["id"], id);
    assert_eq!(timeline["order"]["merchant_name"], "Trattoria");
    assert_eq!(timeline["order"]["customer"]["email"], customer.email);
    let entries = timeline["entries"].as_array().unwrap();
    let at: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let instants: Vec<time::OffsetDateTime> = at
        .iter()
        .map(|a| {
            time::OffsetDateTime::parse(a, &time::format_description::well_known::Rfc3339).unwrap()
        })
        .collect();
    assert!(instants.is_sorted(), "in time order: {at:?}");
    assert_eq!(
        told(entries, "orders"),
        ["status_changed"; 6],
        "placed, paid, accepted, ready, picked up, completed"
    );
    assert!(
        entries
            .iter()
            .all(|e| e["summary"].as_str().is_some_and(|s| !s.is_empty()))
    );
    let statuses: Vec<&str> = entries
        .iter()
        .filter(|e| e["service"] == "orders")
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert!(statuses[0].starts_with("Placed"), "{statuses:?}");
    assert!(statuses[5].contains("completed"), "{statuses:?}");
    assert_eq!(
        told(entries, "inventory"),
        ["reservation_held", "reservation_committed"]
    );
    assert_eq!(
        told(entries, "payments"),
        [
            "authorize_requested",
            "authorised",
            "capture_requested",
            "captured"
        ]
    );
    let delivery = told(entries, "delivery");
    for step in [
        "delivery_opened",
        "offer_made",
        "offer_accepted",
        "assigned",
        "picked_up",
        "delivered",
    ] {
        assert!(delivery.contains(&step), "{step}: {delivery:?}");
    }
    let position = delivery.iter().position(|k| *k == "offer_made").unwrap();
    assert!(delivery.iter().position(|k| *k == "delivered").unwrap() > position);
    let sent = told(entries, "notifications");
    let told_placed = entries
        .iter()
        .find(|e| e["kind"] == "order_placed_in_app")
        .unwrap();
    assert_eq!(
        told_placed["trace_id"],
        entries.iter().find(|e| e["service"] == "orders").unwrap()["trace_id"],
        "the message answers the checkout, in its trace"
    );
    assert!(sent.contains(&"order_placed_in_app"), "{sent:?}");
    assert!(sent.contains(&"delivery_offered_in_app"), "{sent:?}");
    let offered = entries.iter().find(|e| e["kind"] == "offer_made").unwrap();
    assert!(
        offered["summary"].as_str().unwrap().contains("Test User"),
        "{offered}"
    );
    // The customer's request and what followed from it share one trace.
    let placed = entries.iter().find(|e| e["service"] == "orders").unwrap();
    let trace = placed["trace_id"].as_str().expect("the checkout's trace");
    assert_eq!(trace.len(), 32);
    let paid = entries
        .iter()
        .find(|e| e["summary"].as_str().unwrap().contains("\u{2192} paid"))
        .unwrap();
    assert_eq!(paid["trace_id"], trace);
    let authorised = entries.iter().find(|e| e["kind"] == "authorised").unwrap();
    assert_eq!(
        authorised["trace_id"], trace,
        "the checkout's trace reached payments"
    );
    let captured = entries.iter().find(|e| e["kind"] == "captured").unwrap();
    assert_eq!(captured["trace_id"].as_str().map(str::len), Some(32));
    // Every step names the trace of the request, event or sweep that did it.
    for entry in entries {
        let trace = entry["trace_id"].as_str().unwrap_or_default();
        assert!(
            trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()),
            "no trace: {entry}"
        );
    }
    let trace_of = |kind: &str| {
        entries
            .iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind}"))["trace_id"]
            .clone()
    };
    let status_trace = |to: &str| {
        entries
            .iter()
            .find(|e| {
                e["service"] == "orders"
                    && e["summary"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("\u{2192} {to} by"))
            })
            .unwrap_or_else(|| panic!("{to}"))["trace_id"]
            .clone()
    };
    assert_eq!(trace_of("reservation_held"), trace, "held by the checkout");
    assert_eq!(
        trace_of("reservation_committed"),
        trace,
        "committed as it was paid"
    );
    assert_eq!(
        trace_of("delivery_opened"),
        status_trace("accepted"),
        "opened as the merchant accepted"
    );
    assert_eq!(trace_of("offer_made"), trace_of("delivery_opened"));
    assert_eq!(
        trace_of("assigned"),
        trace_of("offer_accepted"),
        "the courier's answer assigned it"
    );
    assert_ne!(trace_of("assigned"), trace_of("delivery_opened"));
    assert_eq!(trace_of("picked_up"), status_trace("picked up"));
    assert_eq!(trace_of("delivered"), status_trace("completed"));

    // Operators only; an unknown order is 404.
    let refused = app
        .as_user(&customer, Method::GET, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    problem(refused).await;
    let unknown = format!("/admin/orders/{}/timeline", uuid::Uuid::now_v7());
    let missing = app
        .as_user(&admin, Method::GET, &unknown)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    problem(missing).await;
    app.stop().await;
}

/// A declined card, then another: payments tells both authorisations with their traces.
async fn a_second_card_shows_both_authorisations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let declined = card(&app, &customer, DECLINED_CARD).await;
    let items = json!([{"product_id": shop.pizza.0, "quantity": 1}]);
    let order = json_of(order_request(
        &app,
        &customer,
        "s1",
        &pickup(items, &declined),
    ))
    .await;
    let id = order["id"].as_str().unwrap().to_owned();
    app.eventually("the card is declined", || async {
        status(&app, &customer, &id).await == "payment_failed"
    })
    .await;
    paid_with_another_card(&app, &customer, &id).await;
    let admin = app.admin().await;
    let path = format!("/admin/orders/{id}/timeline");
    let timeline = json_of(app.as_user(&admin, Method::GET, &path)).await;
    let entries = timeline["entries"].as_array().unwrap();
    assert_eq!(
        told(entries, "payments"),
        [
            "authorize_requested",
            "authorisation_declined",
            "authorize_requested",
            "authorised"
        ]
    );
    let payments: Vec<&Value> = entries
        .iter()
        .filter(|e| e["service"] == "payments")
        .collect();
    assert_eq!(payments[1]["summary"], "Authorisation 1 declined");
    assert_eq!(
        payments[3]["summary"],
        "Authorisation 2 (another card) of 9.50 EUR held on the card"
    );
    assert!(
        payments
            .iter()
            .all(|e| e["trace_id"].as_str().is_some_and(|t| t.len() == 32))
    );
    assert_ne!(
        payments[0]["trace_id"], payments[2]["trace_id"],
        "two requests, two traces"
    );
    app.stop().await;
}

backend_test!(found, found_by_what_people_know_of_it);
backend_test!(second_card, a_second_card_shows_both_authorisations);
backend_test!(timeline, a_delivered_order_tells_every_step);
