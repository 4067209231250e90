//! Parcels (seed 001): a shipping order handed to a carrier reads Pending Shipment, then
//! Shipped and Delivered from the carrier's signed events; the order goes shipped, then
//! completed and charged. Unsigned, stale and replayed events change nothing; an event
//! names its parcel, so one captured for a parcel cannot move another, and carriers' event
//! ids are each parcel's own.

use ordo_e2e::fixtures::{GOOD_CARD, Shop, card, notified, order_request, shop, status};
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CARRIER_SECRET: &str = "a secret shared with carriers";

fn signed(body: &str, seconds_ago: i64) -> String {
    let at = time::OffsetDateTime::now_utc() - time::Duration::seconds(seconds_ago);
    ordo_kernel::signature::sign(CARRIER_SECRET.as_bytes(), body.as_bytes(), at)
}

async fn parcel(app: &TestApp, who: &Session, id: &str) -> reqwest::Response {
    app.as_user(who, Method::GET, &format!("/shipments/{id}"))
        .send()
        .await
        .unwrap()
}

async fn a_parcel_ships_and_arrives(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.carrier_webhook_secret =
            Some(ordo_kernel::Secret::new(CARRIER_SECRET.into()));
    })
    .await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let body = json!({
        "items": [{"product_id": shop.pizza.0, "quantity": 1}],
        "fulfilment": "shipping",
        "address": {"line1": "Hafenstrasse 5", "city": "Hamburg", "postal_code": "20359",
                    "country": "DE", "lat": 53.54, "lon": 9.96},
        "payment_method_id": method,
    });
    let order = json_of(order_request(&app, &customer, "p1", &body)).await;
    let id = order["id"].as_str().unwrap().to_owned();
    app.eventually("the order is paid", || async {
        status(&app, &customer, &id).await == "paid"
    })
    .await;
    let ship = |body: Value| {
        app.as_user(&shop.owner, Method::POST, &format!("/orders/{id}/ship"))
            .json(&body)
    };
    let parcel_body = json!({"carrier": "DHL", "tracking_number": "JD0146000012345"});
    // Not accepted yet; then a bad tracking number; then shipped.
    assert_eq!(
        ship(parcel_body.clone()).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );
    let accepted = app
        .as_user(&shop.owner, Method::POST, &format!("/orders/{id}/accept"))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let bad = ship(json!({"carrier": "DHL", "tracking_number": "no spaces allowed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    problem(bad).await;
    let customers = app
        .as_user(&customer, Method::POST, &format!("/orders/{id}/ship"))
        .json(&parcel_body)
        .send()
        .await
        .unwrap();
    assert_eq!(customers.status(), StatusCode::FORBIDDEN);
    let shipped = json_of(ship(parcel_body.clone())).await;
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["shipment"]["tracking_number"], "JD0146000012345");
    let parcel_id = shipped["shipment"]["id"].as_str().unwrap().to_owned();

    app.eventually("the parcel is pending shipment", || async {
        parcel(&app, &customer, &parcel_id).await.status() == StatusCode::OK
    })
    .await;
    let seen = parcel(&app, &customer, &parcel_id)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(seen["label"], "Pending Shipment");
    let stranger = app.signup("customer").await;
    let courier = app.signup("courier").await;
    for who in [&stranger, &courier] {
        assert_eq!(
            parcel(&app, who, &parcel_id).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        parcel(&app, &shop.owner, &parcel_id).await.status(),
        StatusCode::OK
    );

    let send = |body: &str, signature: Option<String>| {
        let mut request = app
            .api(Method::POST, &format!("/shipments/{parcel_id}/events"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("ordo-signature", signature);
        }
        request.send()
    };
    let in_transit = r#"{"id":"scan-1","tracking_number":"JD0146000012345","type":"in_transit","location":"Berlin hub"}"#;
    // Unsigned, stale or signed for another body: refused, nothing changes.
    for (signature, why) in [
        (None, "unsigned"),
        (Some(signed(in_transit, 600)), "stale"),
        (
            Some(signed(
                r#"{"id":"scan-1","tracking_number":"JD0146000012345","type":"delivered"}"#,
                0,
            )),
            "another body",
        ),
    ] {
        let refused = send(in_transit, signature).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{why}");
        problem(refused).await;
    }
    let seen = parcel(&app, &customer, &parcel_id)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(seen["status"], "pending_shipment");
    assert!(seen["events"].as_array().unwrap().is_empty());

    let ok = send(in_transit, Some(signed(in_transit, 0))).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // Replayed: acknowledged, nothing more.
    let again = send(in_transit, Some(signed(in_transit, 0))).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let seen = parcel(&app, &customer, &parcel_id)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(seen["label"], "Shipped");
    assert_eq!(seen["events"].as_array().unwrap().len(), 1);
    assert_eq!(seen["events"][0]["location"], "Berlin hub");
    let garbage = r#"{"id":"scan-2","tracking_number":"JD0146000012345","type":"lost"}"#;
    let refused = send(garbage, Some(signed(garbage, 0))).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let delivered = r#"{"id":"scan-3","tracking_number":"JD0146000012345","type":"delivered"}"#;
    assert_eq!(
        send(delivered, Some(signed(delivered, 0)))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let seen = parcel(&app, &customer, &parcel_id)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(seen["label"], "Delivered");
    app.eventually("the order completes, and the customer is told", || async {
        status(&app, &customer, &id).await == "completed"
            && notified(&app, &customer)
                .await
                .contains(&"parcel_delivered".to_owned())
            && notified(&app, &customer)
                .await
                .contains(&"parcel_shipped".to_owned())
    })
    .await;
    app.stop().await;
}

async fn carrier_events_need_a_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = r#"{"id":"scan-1","tracking_number":"JD0146000012345","type":"in_transit"}"#;
    let refused = app
        .api(
            Method::POST,
            &format!("/shipments/{}/events", uuid::Uuid::now_v7()),
        )
        .header("ordo-signature", signed(body, 0))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    problem(refused).await;
    app.stop().await;
}

/// A paid shipping order of `customer`'s, accepted and shipped as `tracking_number`; the
/// order's and the parcel's ids once delivery has opened the parcel.
async fn shipped(
    app: &TestApp,
    shop: &Shop,
    customer: &Session,
    tracking_number: &str,
) -> (String, String) {
    let method = card(app, customer, GOOD_CARD).await;
    let body = json!({
        "items": [{"product_id": shop.pizza.0, "quantity": 1}],
        "fulfilment": "shipping",
        "address": {"line1": "Hafenstrasse 5", "city": "Hamburg", "postal_code": "20359",
                    "country": "DE", "lat": 53.54, "lon": 9.96},
        "payment_method_id": method,
    });
    let order = json_of(order_request(app, customer, tracking_number, &body)).await;
    let id = order["id"].as_str().unwrap().to_owned();
    app.eventually("the order is paid", || async {
        status(app, customer, &id).await == "paid"
    })
    .await;
    json_of(app.as_user(&shop.owner, Method::POST, &format!("/orders/{id}/accept"))).await;
    let shipped = json_of(
        app.as_user(&shop.owner, Method::POST, &format!("/orders/{id}/ship"))
            .json(&json!({"carrier": "DHL", "tracking_number": tracking_number})),
    )
    .await;
    let parcel_id = shipped["shipment"]["id"].as_str().unwrap().to_owned();
    app.eventually("delivery opens the parcel", || async {
        parcel(app, customer, &parcel_id).await.status() == StatusCode::OK
    })
    .await;
    (id, parcel_id)
}

async fn tracked(app: &TestApp, who: &Session, id: &str) -> Value {
    json_of(app.as_user(who, Method::GET, &format!("/shipments/{id}"))).await
}

async fn carrier_event(app: &TestApp, parcel_id: &str, body: &Value) -> reqwest::Response {
    let body = body.to_string();
    app.api(Method::POST, &format!("/shipments/{parcel_id}/events"))
        .header("content-type", "application/json")
        .header("ordo-signature", signed(&body, 0))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn events_belong_to_their_parcel(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.delivery.carrier_webhook_secret =
            Some(ordo_kernel::Secret::new(CARRIER_SECRET.into()));
    })
    .await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let (_, a) = shipped(&app, &shop, &customer, "PARCEL0000A").await;
    let (order_b, b) = shipped(&app, &shop, &customer, "PARCEL0000B").await;

    let for_a = json!({"id": "evt-2", "tracking_number": "PARCEL0000A", "type": "delivered"});
    assert_eq!(
        carrier_event(&app, &a, &for_a).await.status(),
        StatusCode::OK
    );
    assert_eq!(tracked(&app, &customer, &a).await["status"], "delivered");
    // A's event, signed and captured, sent to B: refused, B unmoved.
    let replayed = carrier_event(&app, &b, &for_a).await;
    assert_eq!(replayed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem(replayed).await["errors"][0]["field"],
        "tracking_number"
    );
    let unnamed = carrier_event(&app, &b, &json!({"id": "evt-9", "type": "delivered"})).await;
    assert_eq!(unnamed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    problem(unnamed).await;
    let b_seen = tracked(&app, &customer, &b).await;
    assert_eq!(b_seen["status"], "pending_shipment");
    assert!(b_seen["events"].as_array().unwrap().is_empty());

    // B's own evt-2 is B's: applied.
    let for_b = json!({"id": "evt-2", "tracking_number": "PARCEL0000B", "type": "delivered"});
    assert_eq!(
        carrier_event(&app, &b, &for_b).await.status(),
        StatusCode::OK
    );
    let b_seen = tracked(&app, &customer, &b).await;
    assert_eq!(b_seen["status"], "delivered");
    assert_eq!(b_seen["events"].as_array().unwrap().len(), 1);
    app.eventually("B's order completes", || async {
        status(&app, &customer, &order_b).await == "completed"
    })
    .await;
    assert_eq!(
        tracked(&app, &customer, &a).await["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}

backend_test!(parcel_journey, a_parcel_ships_and_arrives);
backend_test!(events_per_parcel, events_belong_to_their_parcel);
backend_test!(unconfigured_carriers, carrier_events_need_a_secret);
