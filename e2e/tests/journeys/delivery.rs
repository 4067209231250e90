//! Couriers and their deliveries: going online and reporting positions (jitter that adds
//! up to travel refused), offers to the couriers near the merchant (never to one out of
//! range), the first acceptance winning, an ignored offer passing on, a declined one too, a
//! delivery nobody takes escalated, automatic assignment, the hand-over through to the
//! completed order, its live tracking (ended at once for a finished order), and a paid
//! order no merchant accepts in time.

use ordo_db::params;
use ordo_delivery::DispatchMode;
use ordo_e2e::fixtures::{
    GOOD_CARD, Shop, card, complete, courier_at, notified, order_request, paid_order, shop, status,
};
use ordo_e2e::{EventStream, Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The merchant of `shop` is at (52.5, 13.4).
const NEAR: (f64, f64) = (52.501, 13.400);
const FURTHER: (f64, f64) = (52.505, 13.400);
const OUT_OF_RANGE: (f64, f64) = (52.9, 13.4);
const CUSTOMER_STREET: &str = "Kastanienallee 77";

/// A delivery order, paid and accepted by the merchant: the search for a courier begins.
async fn accepted_delivery(app: &TestApp, shop: &Shop, key: &str) -> (Session, String) {
    let customer = app.signup("customer").await;
    let method = card(app, &customer, GOOD_CARD).await;
    let body = json!({
        "items": [{"product_id": shop.pizza.0, "quantity": 1}],
        "fulfilment": "delivery",
        "address": {"line1": CUSTOMER_STREET, "city": "Berlin", "postal_code": "10435",
                    "country": "DE", "lat": 52.51, "lon": 13.41},
        "payment_method_id": method,
    });
    let order = json_of(order_request(app, &customer, key, &body)).await;
    let id = order["id"].as_str().expect("order placed").to_owned();
    app.eventually("the order is paid", || async {
        status(app, &customer, &id).await == "paid"
    })
    .await;
    let accepted = app
        .as_user(&shop.owner, Method::POST, &format!("/orders/{id}/accept"))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    (customer, id)
}

/// The merchant's next step on `order` (`ready`, `picked-up`, …), to send.
fn merchant_step(app: &TestApp, shop: &Shop, order: &str, action: &str) -> reqwest::RequestBuilder {
    app.as_user(
        &shop.owner,
        Method::POST,
        &format!("/orders/{order}/{action}"),
    )
}

async fn offers(app: &TestApp, courier: &Session) -> Vec<Value> {
    json_of(app.as_user(courier, Method::GET, "/courier/offers")).await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn offer_for(app: &TestApp, courier: &Session, order: &str) -> Option<Value> {
    offers(app, courier)
        .await
        .into_iter()
        .find(|o| o["order_id"] == order)
}

async fn answer(app: &TestApp, courier: &Session, offer: &Value, how: &str) -> reqwest::Response {
    let id = offer["id"].as_str().unwrap();
    app.as_user(
        courier,
        Method::POST,
        &format!("/courier/offers/{id}/{how}"),
    )
    .send()
    .await
    .unwrap()
}

async fn deliveries(app: &TestApp, courier: &Session) -> Vec<Value> {
    json_of(app.as_user(courier, Method::GET, "/courier/deliveries")).await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn escalated(app: &TestApp, order: &str) -> bool {
    app.databases["delivery"]
        .fetch_optional::<(Option<OffsetDateTime>,)>(
            "SELECT escalated_at FROM deliveries WHERE order_id = $1",
            params![order.parse::<uuid::Uuid>().unwrap()],
        )
        .await
        .unwrap()
        .is_some_and(|(at,)| at.is_some())
}

async fn offered_to_the_near_first_taker_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let near = courier_at(&app, NEAR).await;
    let further = courier_at(&app, FURTHER).await;
    let far = courier_at(&app, OUT_OF_RANGE).await;
    let (customer, order) = accepted_delivery(&app, &shop, "d1").await;

    app.eventually("both near couriers are offered the delivery", || async {
        offer_for(&app, &near, &order).await.is_some()
            && offer_for(&app, &further, &order).await.is_some()
    })
    .await;
    assert!(offers(&app, &far).await.is_empty(), "out of range");
    let first = offer_for(&app, &near, &order).await.unwrap();
    let second = offer_for(&app, &further, &order).await.unwrap();
    assert_eq!(first["pickup"]["name"], "Trattoria");
    assert!(first.get("drop_off").is_none());
    assert!(!first.to_string().contains(CUSTOMER_STREET), "{first}");
    assert!(first["distance_km"].as_f64().unwrap() < second["distance_km"].as_f64().unwrap());
    // The courier's pay: 3.00 and 0.80 per kilometre of the trip (the defaults).
    let trip_km = first["trip_km"].as_f64().unwrap();
    let pay = first["payout"]["amount"].as_i64().unwrap();
    assert!(
        (pay - (300 + (80.0 * trip_km).round() as i64)).abs() <= 1,
        "{first}"
    );
    assert_eq!(first["payout"]["currency"], "EUR");
    assert_eq!(second["payout"], first["payout"]);
    // Someone else's offer does not exist for a courier; customers have none.
    assert_eq!(
        answer(&app, &further, &first, "accept").await.status(),
        StatusCode::NOT_FOUND
    );
    let customers = app
        .as_user(&customer, Method::GET, "/courier/offers")
        .send()
        .await
        .unwrap();
    assert_eq!(customers.status(), StatusCode::FORBIDDEN);
    problem(customers).await;

    // Both accept at once: one takes it, the other is told it is gone.
    let (a, b) = tokio::join!(
        answer(&app, &near, &first, "accept"),
        answer(&app, &further, &second, "accept")
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let (winner, loser, taken) = if a.status() == StatusCode::OK {
        (&near, &further, a.json::<Value>().await.unwrap())
    } else {
        (&further, &near, b.json::<Value>().await.unwrap())
    };
    assert_eq!(taken["status"], "assigned");
    assert!(
        taken["drop_off"]["address"]
            .as_str()
            .unwrap()
            .contains(CUSTOMER_STREET)
    );
    assert_eq!(taken["drop_off"]["name"], "Test User");
    assert_eq!(taken["payout"], first["payout"]);
    assert!(
        offers(&app, loser).await.is_empty(),
        "the other offer is withdrawn"
    );

    // Operators see the fleet: the three couriers online, the winner busy where it last
    // reported, and the delivery with both stops and its courier; nobody else sees it.
    let admin = app.admin().await;
    let fleet = json_of(app.as_user(&admin, Method::GET, "/admin/fleet")).await;
    let couriers = fleet["couriers"].as_array().unwrap();
    assert_eq!(couriers.len(), 3, "{fleet}");
    let carrying = couriers
        .iter()
        .find(|c| c["id"] == winner.id.to_string())
        .unwrap();
    assert_eq!(carrying["busy"], true);
    assert_eq!(carrying["online"], true);
    assert!(carrying["lat"].as_f64().is_some() && carrying["located_at"].is_string());
    let under_way = fleet["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["order_id"] == order.as_str())
        .unwrap();
    assert_eq!(under_way["status"], "assigned");
    assert_eq!(under_way["courier_id"], winner.id.to_string());
    assert_eq!(
        under_way["drop_off"]["address"],
        taken["drop_off"]["address"]
    );
    for nosy in [&customer, winner, &shop.owner] {
        let refused = app
            .as_user(nosy, Method::GET, "/admin/fleet")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        problem(refused).await;
    }

    // The order is the winner's to see, nobody else's among couriers.
    app.eventually("the order knows its courier", || async {
        app.as_user(winner, Method::GET, &format!("/orders/{order}"))
            .send()
            .await
            .unwrap()
            .status()
            == StatusCode::OK
    })
    .await;
    for other in [loser, &far] {
        let seen = app
            .as_user(other, Method::GET, &format!("/orders/{order}"))
            .send()
            .await
            .unwrap();
        assert_eq!(seen.status(), StatusCode::NOT_FOUND);
    }

    // The kitchen, the hand-over, the door.
    let act = |action: &str| merchant_step(&app, &shop, &order, action);
    assert_eq!(
        act("picked-up").send().await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(act("ready").send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        act("picked-up").send().await.unwrap().status(),
        StatusCode::OK
    );
    let delivery_id = taken["id"].as_str().unwrap().to_owned();
    let delivered = |who: &Session| {
        app.as_user(
            who,
            Method::POST,
            &format!("/deliveries/{delivery_id}/delivered"),
        )
    };
    assert_eq!(
        delivered(loser).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    app.eventually("the courier has it picked up", || async {
        deliveries(&app, winner)
            .await
            .first()
            .is_some_and(|d| d["status"] == "picked_up")
    })
    .await;
    let done = delivered(winner).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(done.json::<Value>().await.unwrap()["status"], "delivered");
    assert_eq!(
        delivered(winner).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );
    let fleet = json_of(app.as_user(&admin, Method::GET, "/admin/fleet")).await;
    assert!(
        fleet["deliveries"].as_array().unwrap().is_empty(),
        "a delivered order leaves the map: {fleet}"
    );
    app.eventually("the order is completed", || async {
        status(&app, &customer, &order).await == "completed"
    })
    .await;

    // Each person was told exactly their part.
    let customer_told = [
        "courier_assigned",
        "order_accepted",
        "order_delivered",
        "order_picked_up",
        "order_placed",
        "order_ready",
    ];
    let merchant_told = ["courier_assigned", "new_order", "order_delivered"];
    app.eventually("everyone concerned is told", || async {
        notified(&app, &customer).await == customer_told
            && notified(&app, &shop.owner).await == merchant_told
            && notified(&app, winner).await == ["delivery_offered", "order_ready"]
    })
    .await;
    assert_eq!(notified(&app, loser).await, ["delivery_offered"]);
    assert!(notified(&app, &far).await.is_empty());
    app.stop().await;
}

async fn offers_pass_on_and_a_lost_delivery_escalates(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.offer_batch = 1;
        config.delivery.offer_secs = 1;
        config.delivery.unassigned_after_secs = 3;
        config.delivery.sweep_ms = 100;
    })
    .await;
    let shop = shop(&app, 10).await;
    let near = courier_at(&app, NEAR).await;
    let further = courier_at(&app, FURTHER).await;
    courier_at(&app, OUT_OF_RANGE).await;
    let (_, order) = accepted_delivery(&app, &shop, "d2").await;

    app.eventually("the nearest courier is asked first", || async {
        offer_for(&app, &near, &order).await.is_some()
    })
    .await;
    assert!(
        offer_for(&app, &further, &order).await.is_none(),
        "one at a time"
    );
    // Ignored, the offer expires and the next courier is asked.
    app.eventually("the offer passes to the next courier", || async {
        offer_for(&app, &further, &order).await.is_some()
    })
    .await;
    assert!(
        offer_for(&app, &near, &order).await.is_none(),
        "not again before reoffer_after_secs"
    );
    let offer = offer_for(&app, &further, &order).await.unwrap();
    assert_eq!(
        answer(&app, &further, &offer, "decline").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        answer(&app, &further, &offer, "decline").await.status(),
        StatusCode::CONFLICT
    );
    // Nobody left in range: operators (and the merchant) are called.
    let operator = app.admin().await;
    app.eventually("the delivery is escalated", || async {
        escalated(&app, &order).await
    })
    .await;
    app.eventually("operators are told", || async {
        notified(&app, &operator).await == ["delivery_unassigned"]
            && notified(&app, &shop.owner)
                .await
                .contains(&"delivery_unassigned".to_owned())
    })
    .await;
    // Ready with no courier: the hand-over is early, and says to ask again.
    let act = |action: &str| merchant_step(&app, &shop, &order, action);
    assert_eq!(act("ready").send().await.unwrap().status(), StatusCode::OK);
    let early = act("picked-up").send().await.unwrap();
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert_eq!(early.headers()["retry-after"], "1");
    let refusal = problem(early).await;
    assert!(
        refusal["type"]
            .as_str()
            .is_some_and(|kind| kind.ends_with("courier-not-known-yet")),
        "{refusal}"
    );
    app.stop().await;
}

/// A courier who takes one delivery is not kept waiting for by the others it was offered:
/// they pass on at once (offers last far longer than this test may wait).
async fn a_courier_taking_one_delivery_lets_its_other_offers_go(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.offer_batch = 1;
        config.delivery.offer_secs = 600;
        config.delivery.sweep_ms = 100;
    })
    .await;
    let shop = shop(&app, 10).await;
    let near = courier_at(&app, NEAR).await;
    let further = courier_at(&app, FURTHER).await;
    let (_, first) = accepted_delivery(&app, &shop, "w1").await;
    let (_, second) = accepted_delivery(&app, &shop, "w2").await;
    app.eventually("the nearest courier is offered both", || async {
        offer_for(&app, &near, &first).await.is_some()
            && offer_for(&app, &near, &second).await.is_some()
    })
    .await;
    assert!(offers(&app, &further).await.is_empty(), "one at a time");

    let offer = offer_for(&app, &near, &first).await.unwrap();
    assert_eq!(
        answer(&app, &near, &offer, "accept").await.status(),
        StatusCode::OK
    );
    assert!(
        offers(&app, &near).await.is_empty(),
        "the other is withdrawn"
    );
    app.eventually("the other delivery passes to the next courier", || async {
        offer_for(&app, &further, &second).await.is_some()
    })
    .await;
    app.stop().await;
}

backend_test!(
    taking_one_lets_others_go,
    a_courier_taking_one_delivery_lets_its_other_offers_go
);

async fn auto_mode_assigns_the_nearest(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.mode = DispatchMode::Auto;
    })
    .await;
    let shop = shop(&app, 10).await;
    let further = courier_at(&app, FURTHER).await;
    let near = courier_at(&app, NEAR).await;
    let (_, order) = accepted_delivery(&app, &shop, "d3").await;
    app.eventually("the nearest courier has the delivery", || async {
        deliveries(&app, &near)
            .await
            .first()
            .is_some_and(|d| d["order_id"] == order.as_str())
    })
    .await;
    assert!(deliveries(&app, &further).await.is_empty());
    assert!(offers(&app, &near).await.is_empty(), "nobody was asked");
    app.stop().await;
}

async fn positions_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let courier = app.signup("courier").await;
    let locate = |who: &Session, body: Value| {
        app.as_user(who, Method::PUT, "/courier/location")
            .json(&body)
    };
    let offline = locate(&courier, json!({"lat": 52.5, "lon": 13.4}))
        .send()
        .await
        .unwrap();
    assert_eq!(offline.status(), StatusCode::CONFLICT);
    problem(offline).await;
    let courier = courier_at(&app, NEAR).await;
    for bad in [
        json!({"lat": 91.0, "lon": 13.4}),
        json!({"lat": 52.5}),
        json!({"lat": "x", "lon": 1}),
    ] {
        let refused = locate(&courier, bad.clone()).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        problem(refused).await;
    }
    // Hamburg a moment after Berlin.
    let jump = locate(&courier, json!({"lat": 53.55, "lon": 9.99}))
        .send()
        .await
        .unwrap();
    assert_eq!(jump.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let customer = app.signup("customer").await;
    let customers = locate(&customer, json!({"lat": 52.5, "lon": 13.4}))
        .send()
        .await
        .unwrap();
    assert_eq!(customers.status(), StatusCode::FORBIDDEN);
    // A flood is cut short.
    let mut limited = false;
    for _ in 0..20 {
        let response = locate(&courier, json!({"lat": NEAR.0, "lon": NEAR.1}))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            limited = true;
            break;
        }
    }
    assert!(limited, "position reports are rate limited");
    let status = json_of(
        app.as_user(&courier, Method::PUT, "/courier/availability")
            .json(&json!({"online": false})),
    )
    .await;
    assert_eq!(status["online"], false);
    assert_eq!(status["lat"], NEAR.0);
    let read = json_of(app.as_user(&courier, Method::GET, "/courier/availability")).await;
    assert_eq!(read, status, "the courier reads what they set");
    app.stop().await;
}

async fn jitter_does_not_add_up_to_speed(backend: Backend) {
    // A bound so low that however slowly the reports below go out, their hops outrun it.
    let app = TestApp::spawn_with(backend, |config| config.delivery.max_speed_kmh = 1.0).await;
    let courier = courier_at(&app, NEAR).await;
    let north = |hops: u32| json!({"lat": NEAR.0 + 0.00089 * f64::from(hops), "lon": NEAR.1});
    // 99 m: within the jitter allowance.
    let first = app
        .as_user(&courier, Method::PUT, "/courier/location")
        .json(&north(1))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    // 99 m more, and more: each hop is jitter-sized, together they are travel.
    for hops in 2..=4 {
        let refused = app
            .as_user(&courier, Method::PUT, "/courier/location")
            .json(&north(hops))
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "hop {hops}"
        );
        assert_eq!(problem(refused).await["errors"][0]["field"], "lat");
    }
    let read = json_of(app.as_user(&courier, Method::GET, "/courier/availability")).await;
    let kept = read["lat"].as_f64().unwrap() - north(1)["lat"].as_f64().unwrap();
    assert!(
        kept.abs() < 1e-9,
        "the courier stays where the last report put them"
    );
    app.stop().await;
}

/// A delivery nobody answered is not forgotten: the courier who let the offer expire is
/// asked again once `reoffer_after_secs` passed, and a courier who declines is replaced by
/// one who comes online later.
async fn a_lapsed_delivery_is_offered_again(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.offer_batch = 1;
        config.delivery.offer_secs = 1;
        config.delivery.reoffer_after_secs = 1;
        config.delivery.sweep_ms = 100;
    })
    .await;
    let shop = shop(&app, 10).await;
    let near = courier_at(&app, NEAR).await;
    let (_, order) = accepted_delivery(&app, &shop, "again").await;
    app.eventually("the courier is offered the delivery", || async {
        offer_for(&app, &near, &order).await.is_some()
    })
    .await;
    let first = offer_for(&app, &near, &order).await.unwrap();
    app.eventually("the expired offer is made again", || async {
        offer_for(&app, &near, &order)
            .await
            .is_some_and(|again| again["id"] != first["id"])
    })
    .await;
    let again = offer_for(&app, &near, &order).await.unwrap();
    assert_eq!(
        answer(&app, &near, &again, "decline").await.status(),
        StatusCode::NO_CONTENT
    );
    let later = courier_at(&app, FURTHER).await;
    app.eventually("a courier who comes online later is asked", || async {
        offer_for(&app, &later, &order).await.is_some()
    })
    .await;
    let offer = offer_for(&app, &later, &order).await.unwrap();
    assert_eq!(
        answer(&app, &later, &offer, "accept").await.status(),
        StatusCode::OK
    );
    app.stop().await;
}

/// 12 km from the merchant: beyond the 8 km couriers are asked within, inside twice that.
const WIDER: (f64, f64) = (52.61, 13.4);

/// Operators act on a delivery nobody took: offer it again over a wider area, or give it to
/// a courier of their choice.
async fn operators_offer_again_wider_or_assign(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.offer_batch = 1;
        config.delivery.offer_secs = 600;
    })
    .await;
    let shop = shop(&app, 10).await;
    let near = courier_at(&app, NEAR).await;
    let wider = courier_at(&app, WIDER).await;
    let operator = app.admin().await;
    let (customer, order) = accepted_delivery(&app, &shop, "ops").await;
    app.eventually("the near courier is offered the delivery", || async {
        offer_for(&app, &near, &order).await.is_some()
    })
    .await;
    assert!(offers(&app, &wider).await.is_empty(), "out of range");
    let fleet = json_of(app.as_user(&operator, Method::GET, "/admin/fleet")).await;
    let couriers = fleet["couriers"].as_array().unwrap();
    assert!(
        couriers.len() >= 2 && couriers.iter().all(|c| c["name"].is_string()),
        "couriers are shown by name: {couriers:?}"
    );
    let delivery = fleet["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["order_id"] == order.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let act = |who: &Session, what: &str| {
        app.as_user(
            who,
            Method::POST,
            &format!("/admin/deliveries/{delivery}/{what}"),
        )
    };

    for (who, status) in [
        (&customer, StatusCode::FORBIDDEN),
        (&near, StatusCode::FORBIDDEN),
    ] {
        let refused = act(who, "redispatch").send().await.unwrap();
        assert_eq!(refused.status(), status);
        problem(refused).await;
    }
    let unknown = app
        .as_user(
            &operator,
            Method::POST,
            &format!("/admin/deliveries/{}/redispatch", uuid::Uuid::nil()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let again = json_of(act(&operator, "redispatch")).await;
    assert_eq!(again["offered"], 1, "{again}");
    assert_eq!(again["delivery"]["search_radius_km"], 16.0);
    assert!(
        offer_for(&app, &near, &order).await.is_some(),
        "the nearest is asked first again, whatever came before"
    );

    let offline = app.signup("courier").await;
    let taken = act(&operator, "assign")
        .json(&json!({"courier_id": offline.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert_eq!(problem(taken).await["detail"], "the courier is offline");
    let invalid = act(&operator, "assign")
        .json(&json!({"courier_id": "nobody"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let operators_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let assigned = json_of(
        act(&operator, "assign")
            .header(
                "traceparent",
                format!("00-{operators_trace}-00f067aa0ba902b7-01"),
            )
            .json(&json!({"courier_id": wider.id})),
    )
    .await;
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["courier_id"], wider.id.to_string());
    assert!(
        offers(&app, &near).await.is_empty(),
        "the open offer is withdrawn"
    );
    assert_eq!(
        deliveries(&app, &wider).await[0]["order_id"],
        order.as_str()
    );
    for what in ["assign", "redispatch"] {
        let late = act(&operator, what)
            .json(&json!({"courier_id": near.id}))
            .send()
            .await
            .unwrap();
        assert_eq!(late.status(), StatusCode::CONFLICT, "{what}");
        assert_eq!(
            problem(late).await["detail"],
            "the delivery has a courier already"
        );
    }

    // The order's timeline tells each step in the trace of the request that did it.
    let path = format!("/admin/orders/{order}/timeline");
    let timeline = json_of(app.as_user(&operator, Method::GET, &path)).await;
    let steps: Vec<&Value> = timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["service"] == "delivery")
        .collect();
    let traces = |kind: &str| -> Vec<&str> {
        steps
            .iter()
            .filter(|e| e["kind"] == kind)
            .map(|e| e["trace_id"].as_str().unwrap_or_default())
            .collect()
    };
    assert!(
        steps
            .iter()
            .all(|e| e["trace_id"].as_str().is_some_and(|t| t.len() == 32)),
        "{steps:?}"
    );
    let (opened, made, withdrawn) = (
        traces("delivery_opened"),
        traces("offer_made"),
        traces("offer_withdrawn"),
    );
    let (redispatched, assigned) = (traces("redispatched"), traces("assigned"));
    assert_eq!((made.len(), withdrawn.len()), (2, 2), "{steps:?}");
    assert_eq!(opened, [made[0]], "opened and first offered as accepted");
    assert_eq!(
        [redispatched[0], made[1]],
        [withdrawn[0], withdrawn[0]],
        "the operator's offer again withdrew the first offer and made the next"
    );
    assert_ne!(redispatched[0], opened[0]);
    assert_eq!([assigned[0], withdrawn[1]], [operators_trace; 2]);
    app.stop().await;
}

backend_test!(offered_again, a_lapsed_delivery_is_offered_again);
backend_test!(operators_act, operators_offer_again_wider_or_assign);
backend_test!(first_taker_wins, offered_to_the_near_first_taker_wins);
backend_test!(offers_pass_on, offers_pass_on_and_a_lost_delivery_escalates);
backend_test!(auto_mode, auto_mode_assigns_the_nearest);
backend_test!(positions, positions_are_checked);
backend_test!(jitter_bounded, jitter_does_not_add_up_to_speed);

async fn an_order_nobody_accepts_is_rejected(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.orders.accept_timeout_secs = 1;
        config.orders.sweep_secs = 1;
    })
    .await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let body = json!({
        "items": [{"product_id": shop.pizza.0, "quantity": 2}],
        "fulfilment": "pickup",
        "payment_method_id": method,
    });
    let order = json_of(order_request(&app, &customer, "late", &body)).await;
    let id = order["id"].as_str().unwrap().to_owned();
    app.eventually("the unaccepted order is rejected", || async {
        status(&app, &customer, &id).await == "rejected"
    })
    .await;
    let history =
        json_of(app.as_user(&customer, Method::GET, &format!("/orders/{id}/history"))).await;
    let last = history.as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last["actor"], "system");
    assert_eq!(last["cause"], "not accepted by the merchant in time");
    app.eventually(
        "the stock is back, the card released, the customer told",
        || async {
            let (on_hand, reserved, _) =
                ordo_e2e::fixtures::stock(&app, &shop, &shop.pizza.0).await;
            let voided = app.databases["payments"]
                .fetch_optional::<(String,)>(
                    "SELECT status FROM payments WHERE order_id = $1",
                    params![id.parse::<uuid::Uuid>().unwrap()],
                )
                .await
                .unwrap()
                .is_some_and(|(status,)| status == "voided");
            on_hand == 10
                && reserved == 0
                && voided
                && notified(&app, &customer)
                    .await
                    .contains(&"order_rejected".to_owned())
        },
    )
    .await;
    app.stop().await;
}

backend_test!(accept_timeout, an_order_nobody_accepts_is_rejected);

async fn an_order_is_tracked_live_by_its_people_only(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.mode = DispatchMode::Auto;
    })
    .await;
    let shop = shop(&app, 10).await;
    let courier = courier_at(&app, FURTHER).await;
    let (customer, order) = accepted_delivery(&app, &shop, "t1").await;
    app.eventually("the courier has the delivery", || async {
        !deliveries(&app, &courier).await.is_empty()
    })
    .await;
    let track = |who: &Session| app.as_user(who, Method::GET, &format!("/orders/{order}/track"));

    let mut stream = EventStream::new(track(&customer).send().await.unwrap());
    let seen = stream.until(|e| e.event == "position").await;
    let statuses: Vec<&str> = seen
        .iter()
        .filter(|e| e.event == "status")
        .map(|e| e.data["to"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pending_payment", "paid", "accepted"]);
    assert!(
        seen.iter()
            .any(|e| e.event == "delivery" && e.data["status"] == "assigned")
    );
    let first = seen.last().unwrap();
    assert_eq!(first.data["lat"], FURTHER.0);
    assert!(first.data["eta_secs"].as_i64().unwrap() > 0);

    // The courier moves (a step: faster would be refused): the customer sees it, nearer.
    let step = (52.5042, 13.4);
    let moved = app
        .as_user(&courier, Method::PUT, "/courier/location")
        .json(&json!({"lat": step.0, "lon": step.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::NO_CONTENT);
    let next = stream.until(|e| e.event == "position").await;
    let nearer = next.last().unwrap();
    assert_eq!(nearer.data["lat"], step.0);
    assert!(nearer.data["eta_secs"].as_i64() < first.data["eta_secs"].as_i64());

    // Nobody outside the order may follow it.
    let stranger = app.signup("customer").await;
    let other_courier = courier_at(&app, NEAR).await;
    for who in [&stranger, &other_courier] {
        let refused = track(who).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        problem(refused).await;
    }
    let garbled = track(&customer)
        .header("last-event-id", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(garbled.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Resumed after `paid`, the stream starts at `accepted`; the merchant and the courier
    // follow it too.
    let paid = seen
        .iter()
        .find(|e| e.event == "status" && e.data["to"] == "paid")
        .and_then(|e| e.id.clone())
        .unwrap();
    let mut resumed = EventStream::new(
        track(&shop.owner)
            .header("last-event-id", paid)
            .send()
            .await
            .unwrap(),
    );
    let first_status = resumed.until(|e| e.event == "status").await;
    assert_eq!(first_status.last().unwrap().data["to"], "accepted");
    let by_courier = track(&courier).send().await.unwrap();
    assert_eq!(by_courier.status(), StatusCode::OK);

    // To the door: the stream says so, ends, and closes.
    let act = |action: &str| merchant_step(&app, &shop, &order, action);
    assert_eq!(act("ready").send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        act("picked-up").send().await.unwrap().status(),
        StatusCode::OK
    );
    let delivery_id = deliveries(&app, &courier).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.eventually("the courier has it picked up", || async {
        deliveries(&app, &courier).await[0]["status"] == "picked_up"
    })
    .await;
    let done = app
        .as_user(
            &courier,
            Method::POST,
            &format!("/deliveries/{delivery_id}/delivered"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let rest = stream.until(|e| e.event == "end").await;
    let statuses: Vec<&str> = rest
        .iter()
        .filter(|e| e.event == "status")
        .map(|e| e.data["to"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ready", "picked_up", "completed"]);
    assert!(
        stream.next().await.is_none(),
        "the stream closes after its end"
    );
    app.stop().await;
}

backend_test!(tracking, an_order_is_tracked_live_by_its_people_only);

async fn a_finished_order_ends_its_stream_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let order = paid_order(&app, &shop, &customer, "t-end").await;
    complete(&app, &shop, &order).await;
    let track = || app.as_user(&customer, Method::GET, &format!("/orders/{order}/track"));
    let read_to_the_end = |mut stream: EventStream| async move {
        let mut seen = Vec::new();
        while let Some(event) = stream.next().await {
            seen.push(event);
        }
        seen
    };

    let whole = read_to_the_end(EventStream::new(track().send().await.unwrap())).await;
    assert_eq!(whole.last().unwrap().event, "end");
    let last = whole.iter().rev().find(|e| e.event == "status").unwrap();
    assert_eq!(last.data["to"], "completed");

    // Resumed after the final transition, as an app does after a break: `end`, and closed.
    let resumed = track()
        .header("last-event-id", last.id.clone().unwrap())
        .send()
        .await
        .unwrap();
    let kinds: Vec<String> = read_to_the_end(EventStream::new(resumed))
        .await
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(kinds, ["end"]);

    // An id the order never had (one from the future) is refused.
    let unknown = track()
        .header("last-event-id", uuid::Uuid::now_v7().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem(unknown).await["errors"][0]["field"],
        "Last-Event-ID"
    );
    app.stop().await;
}
backend_test!(tracking_ends, a_finished_order_ends_its_stream_at_once);

async fn couriers_survive_a_restart(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.persist_secs = 1;
    })
    .await;
    let shop = shop(&app, 10).await;
    let courier = courier_at(&app, NEAR).await;
    let stored = || async {
        app.databases["delivery"]
            .fetch_optional::<(Option<f64>,)>(
                "SELECT lat FROM couriers WHERE courier_id = $1",
                params![courier.id],
            )
            .await
            .unwrap()
            .and_then(|(lat,)| lat)
    };
    app.eventually("the position is written", || async {
        stored().await == Some(NEAR.0)
    })
    .await;
    // The token outlives the process; the courier's availability and position come back.
    let app = app.restart().await;
    let (_, order) = accepted_delivery(&app, &shop, "r1").await;
    app.eventually("the courier is offered the delivery", || async {
        offer_for(&app, &courier, &order).await.is_some()
    })
    .await;
    app.stop().await;
}

backend_test!(restart, couriers_survive_a_restart);

/// Redis away (its link cut by a proxy the test holds) from a platform that keeps its
/// fleet and limits there: orders are still placed, paid and accepted; limits fall back to
/// the process's own and readiness says so; a courier's position is refused with 503 and
/// `Retry-After`. Once Redis is back, positions are taken again and the delivery is offered
/// from the fleet in Redis: nothing was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_away_for_a_while() {
    let Some(backend) = ordo_testkit::postgres("redis_away_for_a_while") else {
        return;
    };
    let (Some(_), Some(url)) = (
        ordo_testkit::nats("redis_away_for_a_while"),
        ordo_testkit::redis("redis_away_for_a_while"),
    ) else {
        return;
    };
    let proxy = ordo_testkit::TcpProxy::in_front_of(&url).await;
    let through_proxy = proxy.url_for(&url);
    let app = TestApp::spawn_with(backend, |config| {
        config.redis_url = Some(ordo_kernel::Secret::new(through_proxy));
    })
    .await;
    let shop = shop(&app, 10).await;
    let courier = courier_at(&app, NEAR).await;
    let readyz = || async {
        let answer = reqwest::get(app.url("/readyz")).await.unwrap();
        (answer.status(), answer.json::<Value>().await.unwrap())
    };
    assert_eq!(readyz().await.1["rate_limits"], "shared");

    proxy.cut();
    let (_, order) = accepted_delivery(&app, &shop, "redis-away").await;
    let (code, health) = readyz().await;
    assert_eq!(
        code,
        StatusCode::OK,
        "a limiter outage is not an API outage"
    );
    assert_eq!(health["rate_limits"], "local");
    assert_eq!(health["redis"], false);
    let report = || {
        app.as_user(&courier, Method::PUT, "/courier/location")
            .json(&json!({"lat": NEAR.0, "lon": NEAR.1}))
            .send()
    };
    let refused = report().await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));

    proxy.restore();
    app.until_readiness("positions are taken again", || async {
        report().await.unwrap().status() == StatusCode::NO_CONTENT
    })
    .await;
    app.eventually("the courier is offered the delivery", || async {
        offer_for(&app, &courier, &order).await.is_some()
    })
    .await;
    assert_eq!(readyz().await.1["rate_limits"], "shared");
    app.stop().await;
}
