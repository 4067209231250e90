//! How people are told besides the inbox: each chooses email and text messages per kind of
//! message; texts go through the sandbox (recorded for operators) or a gateway over HTTP
//! with signed requests; and the inbox is cleared at once.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use ordo_db::params;
use ordo_e2e::fixtures::{GOOD_CARD, Shop, card, order_request, pickup, shop};
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_notifications::SmsProviderKind;
use ordo_testkit::{Backend, SmtpSink, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const PHONE: &str = "+4915112345678";
const GATEWAY_SECRET: &str = "the gateway's shared secret";

async fn preferences(app: &TestApp, who: &Session) -> Value {
    json_of(app.as_user(who, Method::GET, "/me/notification-preferences")).await
}

async fn choose(app: &TestApp, who: &Session, body: &Value) -> reqwest::Response {
    app.as_user(who, Method::PUT, "/me/notification-preferences")
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn set_phone(app: &TestApp, who: &Session) {
    let set = app
        .as_user(who, Method::PATCH, "/me")
        .json(&json!({ "phone": PHONE }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
}

/// `customer`, with a phone, chooses texts and no emails for order updates.
async fn texts_for_order_updates(app: &TestApp, customer: &Session) {
    set_phone(app, customer).await;
    let chosen = choose(
        app,
        customer,
        &json!({"order_updates": {"email": false, "sms": true}}),
    )
    .await;
    assert_eq!(chosen.status(), StatusCode::OK);
}

async fn place(app: &TestApp, shop: &Shop, customer: &Session, key: &str) -> String {
    let method = card(app, customer, GOOD_CARD).await;
    let items = json!([{"product_id": shop.pizza.0, "quantity": 1}]);
    let order = json_of(order_request(app, customer, key, &pickup(items, &method))).await;
    order["id"].as_str().unwrap().to_owned()
}

/// Events of `event_type` the notifications service published for `user`.
async fn requested(app: &TestApp, event_type: &str, user: &Session) -> i64 {
    let (count,) = app.databases["notifications"]
        .fetch_one(
            "SELECT COUNT(*) FROM bus_outbox WHERE type = $1 AND subject = $2",
            // An event's subject is text, whatever it names.
            params![event_type, user.id.to_string()],
        )
        .await
        .unwrap();
    count
}

async fn texts(app: &TestApp, admin: &Session, user: &Session) -> Vec<Value> {
    let path = format!("/admin/sms?user_id={}", user.id);
    let page = json_of(app.as_user(admin, Method::GET, &path)).await;
    page["items"].as_array().unwrap().clone()
}

async fn each_chooses_how_to_be_told_and_texts_are_recorded(backend: Backend) {
    let sink = SmtpSink::start().await;
    let smtp = format!("smtp://{}", sink.addr);
    let app = TestApp::spawn_with(backend, |config| {
        config.smtp_url = Some(ordo_kernel::Secret::new(smtp));
    })
    .await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let admin = app.admin().await;

    let defaults = preferences(&app, &customer).await;
    for topic in ["order_updates", "payments", "delivery_offers"] {
        assert_eq!(
            defaults[topic],
            json!({"in_app": true, "email": true, "sms": false}),
            "{topic}"
        );
    }

    // No texts without a phone; the inbox stays on; nothing written when refused.
    let refusals = [
        (
            json!({"order_updates": {"email": true, "sms": true}}),
            "order_updates.sms",
        ),
        (
            json!({"payments": {"in_app": false, "email": true, "sms": false}}),
            "payments.in_app",
        ),
        (json!({"account": {"email": true, "sms": false}}), "account"),
    ];
    for (body, field) in refusals {
        let refused = choose(&app, &customer, &body).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let problem = problem(refused).await;
        assert!(
            problem["errors"][0]["field"]
                .as_str()
                .unwrap()
                .contains(field),
            "{problem}"
        );
    }
    assert_eq!(preferences(&app, &customer).await, defaults);

    texts_for_order_updates(&app, &customer).await;
    let now = preferences(&app, &customer).await;
    assert_eq!(
        now["order_updates"],
        json!({"in_app": true, "email": false, "sms": true})
    );
    assert_eq!(now["payments"], defaults["payments"], "the others stay");

    let order = place(&app, &shop, &customer, "texted").await;
    app.eventually("the customer's text is recorded", || async {
        !texts(&app, &admin, &customer).await.is_empty()
    })
    .await;
    let text = texts(&app, &admin, &customer).await.remove(0);
    assert_eq!(text["to"], PHONE);
    assert_eq!(text["provider"], "sandbox");
    assert_eq!(text["status"], "sent");
    let short = &order.replace('-', "")[24..];
    let body = text["body"].as_str().unwrap();
    assert!(body.contains(short) && body.contains("placed"), "{body}");

    // As chosen: the customer's update by text and not by email; the merchant's by email
    // (the defaults), not by text; both in their inboxes.
    app.eventually("the merchant is emailed", || async {
        sink.messages()
            .iter()
            .any(|m| m.to.iter().any(|to| to.contains(&shop.owner.email)))
    })
    .await;
    assert_eq!(requested(&app, "email.requested", &customer).await, 0);
    assert_eq!(requested(&app, "sms.requested", &shop.owner).await, 0);
    assert!(texts(&app, &admin, &shop.owner).await.is_empty());
    let inbox = json_of(app.as_user(&customer, Method::GET, "/notifications")).await;
    assert_eq!(inbox["items"][0]["kind"], "order_placed");

    // Operators alone read the texts.
    let refused = app
        .as_user(&customer, Method::GET, "/admin/sms")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

/// What the test's gateway received: the signature checked, the request's JSON.
#[derive(Clone, Default)]
struct Gateway {
    received: Arc<Mutex<Vec<(bool, Value)>>>,
    /// Requests still to answer 503, to show retries.
    refuse: Arc<Mutex<u32>>,
}

async fn gateway(State(gateway): State<Gateway>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    let signature = headers
        .get("ordo-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let signed = ordo_kernel::signature::verify(
        GATEWAY_SECRET.as_bytes(),
        signature,
        &body,
        ordo_kernel::time::now(),
    )
    .is_ok();
    let request = serde_json::from_slice(&body).unwrap_or(Value::Null);
    gateway.received.lock().unwrap().push((signed, request));
    let mut refuse = gateway.refuse.lock().unwrap();
    if *refuse > 0 {
        *refuse -= 1;
        return AxumStatus::SERVICE_UNAVAILABLE;
    }
    if signed {
        AxumStatus::ACCEPTED
    } else {
        AxumStatus::UNAUTHORIZED
    }
}

async fn texts_are_posted_signed_to_the_gateway_and_retried(backend: Backend) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let state = Gateway {
        refuse: Arc::new(Mutex::new(1)),
        ..Gateway::default()
    };
    let router = axum::Router::new()
        .route("/sms", axum::routing::post(gateway))
        .with_state(state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let app = TestApp::spawn_with(backend, |config| {
        config.sms.provider = SmsProviderKind::Http;
        config.sms.url = Some(url);
        config.sms.secret = Some(ordo_kernel::Secret::new(GATEWAY_SECRET.into()));
        config.bus.retry_base_ms = 20;
    })
    .await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let admin = app.admin().await;
    texts_for_order_updates(&app, &customer).await;
    place(&app, &shop, &customer, "gateway").await;

    app.eventually("the gateway takes the text once it is back", || async {
        let recorded = texts(&app, &admin, &customer).await;
        recorded.len() == 2 && recorded.iter().any(|t| t["status"] == "sent")
    })
    .await;
    let received = state.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "refused once, then taken: {received:?}");
    for (signed, request) in &received {
        assert!(signed, "every request is signed with the shared secret");
        assert_eq!(request["to"], PHONE);
        assert_eq!(request["from"], "Ordo");
        assert!(request["body"].as_str().unwrap().contains("placed"));
    }
    assert_eq!(received[0].1["id"], received[1].1["id"], "the same message");
    let recorded = texts(&app, &admin, &customer).await;
    let statuses: Vec<&str> = recorded
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["sent", "failed"], "each attempt, newest first");
    assert_eq!(recorded[1]["provider"], "http");
    assert!(recorded[1]["error"].as_str().unwrap().contains("503"));
    app.stop().await;
    server.abort();
}

async fn unread(app: &TestApp, who: &Session) -> usize {
    let page = json_of(app.as_user(who, Method::GET, "/notifications?unread=true")).await;
    page["items"].as_array().unwrap().len()
}

async fn every_unread_notification_is_read_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let other = app.signup("customer").await;
    place(&app, &shop, &customer, "first").await;
    place(&app, &shop, &other, "theirs").await;
    app.eventually("both are told", || async {
        unread(&app, &customer).await == 1 && unread(&app, &other).await == 1
    })
    .await;
    let read = app
        .as_user(&customer, Method::POST, "/notifications/read-all")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    assert_eq!(unread(&app, &customer).await, 0);
    assert_eq!(unread(&app, &other).await, 1, "only the caller's");
    let inbox = json_of(app.as_user(&customer, Method::GET, "/notifications")).await;
    assert_eq!(inbox["items"][0]["read"], true);
    let again = app
        .as_user(&customer, Method::POST, "/notifications/read-all")
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::NO_CONTENT,
        "nothing left is fine"
    );
    app.stop().await;
}

backend_test!(
    notification_channels,
    each_chooses_how_to_be_told_and_texts_are_recorded
);
backend_test!(
    sms_gateway,
    texts_are_posted_signed_to_the_gateway_and_retried
);
backend_test!(
    notification_read_all,
    every_unread_notification_is_read_at_once
);
