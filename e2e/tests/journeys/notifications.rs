//! Notifications: the people an order concerns are told, in their own inbox, live.

use ordo_db::params;
use ordo_e2e::fixtures::{GOOD_CARD, card, order_request, pickup, shop};
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

async fn kinds(app: &TestApp, who: &Session) -> Vec<String> {
    let page = json_of(app.as_user(who, Method::GET, "/notifications")).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn everyone_concerned_is_told(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let bystander = app.signup("customer").await;
    let items = json!([{"product_id": shop.pizza.0, "quantity": 1}]);

    let good = card(&app, &customer, GOOD_CARD).await;
    let order = json_of(order_request(
        &app,
        &customer,
        "n1",
        &pickup(items.clone(), &good),
    ))
    .await;
    app.eventually("the customer is told", || async {
        kinds(&app, &customer).await == ["order_placed"]
    })
    .await;
    app.eventually("the merchant's staff are told", || async {
        kinds(&app, &shop.owner).await == ["new_order"]
    })
    .await;

    let declined = card(&app, &customer, "4000000000000002").await;
    order_request(&app, &customer, "n2", &pickup(items.clone(), &declined))
        .send()
        .await
        .unwrap();
    app.eventually("the failed payment is told", || async {
        kinds(&app, &customer).await == ["payment_failed", "order_placed", "order_placed"]
    })
    .await;
    let failed =
        json_of(app.as_user(&customer, Method::GET, "/notifications")).await["items"][0].clone();
    let said = failed["body"].as_str().unwrap();
    assert!(
        said.contains("declined") && said.contains("Choose another card"),
        "a second chance, not a dead end: {failed}"
    );

    let id = order["id"].as_str().unwrap();
    let cancelled = app
        .as_user(&customer, Method::POST, &format!("/orders/{id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    app.eventually("both sides hear of the cancellation", || async {
        let told = kinds(&app, &customer).await;
        told.iter().any(|k| k == "order_cancelled")
            && told.iter().any(|k| k == "payment_released")
            && kinds(&app, &shop.owner).await[0] == "order_cancelled"
    })
    .await;
    assert!(
        kinds(&app, &bystander).await.is_empty(),
        "nobody else is told"
    );

    // Read and unread.
    let first =
        json_of(app.as_user(&customer, Method::GET, "/notifications")).await["items"][0].clone();
    let first_id = first["id"].as_str().unwrap();
    assert_eq!(first["read"], false);
    let stranger = app
        .as_user(
            &bystander,
            Method::POST,
            &format!("/notifications/{first_id}/read"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    problem(stranger).await;
    let read = app
        .as_user(
            &customer,
            Method::POST,
            &format!("/notifications/{first_id}/read"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    let unread = json_of(app.as_user(&customer, Method::GET, "/notifications?unread=true")).await;
    assert!(
        unread["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["id"] != first["id"])
    );
    let page = json_of(app.as_user(&customer, Method::GET, "/notifications?limit=2")).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    app.stop().await;
}

async fn the_stream_is_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let good = card(&app, &customer, GOOD_CARD).await;
    let mut stream = app
        .as_user(&customer, Method::GET, "/notifications/stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");

    order_request(
        &app,
        &customer,
        "s1",
        &pickup(json!([{"product_id": shop.pizza.0, "quantity": 1}]), &good),
    )
    .send()
    .await
    .unwrap();
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !received.contains("\n\n") || !received.contains("event: notification") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    // The first message only says where the stream started; the notification follows.
    let block = received
        .split("\n\n")
        .find(|block| block.contains("event: notification"))
        .unwrap();
    let data = block
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap();
    let notification: Value = serde_json::from_str(data).unwrap();
    assert_eq!(notification["kind"], "order_placed");
    let id_line = block
        .lines()
        .find_map(|line| line.strip_prefix("id: "))
        .unwrap();
    assert_eq!(id_line, notification["id"].as_str().unwrap());
    drop(stream);
    app.stop().await;
}

/// Reads server-sent events from `stream` until `count` have come: (id, data) each.
async fn events(stream: &mut reqwest::Response, count: usize) -> Vec<(String, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while events.len() < count {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("events in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(str::to_owned)
            };
            if let (Some(id), Some(data)) = (field("id: "), field("data: ")) {
                events.push((id, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    events
}

async fn a_fresh_stream_starts_now_and_a_resumed_one_replays_what_was_missed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    // A long history: more than a page.
    let db = &app.databases["notifications"];
    let mut old = Vec::new();
    let mut tx = db.begin().await.unwrap();
    for n in 0..131 {
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO notifications (id, user_id, kind, title, body, event_id, created_at)
             VALUES ($1, $2, 'order_placed', $3, 'old news', $4, $5)",
            params![
                id,
                customer.id,
                format!("Old {n}"),
                Uuid::now_v7(),
                OffsetDateTime::UNIX_EPOCH
            ],
        )
        .await
        .unwrap();
        old.push(id.to_string());
    }
    tx.commit().await.unwrap();

    // Resumed after the tenth: exactly the 121 after it, in order, over two pages.
    let mut resumed = app
        .as_user(&customer, Method::GET, "/notifications/stream")
        .header("last-event-id", &old[9])
        .send()
        .await
        .unwrap();
    let replayed: Vec<String> = events(&mut resumed, 121)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(replayed, old[10..]);
    drop(resumed);

    // Fresh: nothing old, the next one filed is the first to come.
    let mut fresh = app
        .as_user(&customer, Method::GET, "/notifications/stream")
        .send()
        .await
        .unwrap();
    let good = card(&app, &customer, GOOD_CARD).await;
    let order = json_of(order_request(
        &app,
        &customer,
        "fresh",
        &pickup(json!([{"product_id": shop.pizza.0, "quantity": 1}]), &good),
    ))
    .await;
    let (_, first) = events(&mut fresh, 1).await.remove(0);
    assert_eq!(first["kind"], "order_placed");
    assert_eq!(first["order_id"], order["id"], "not an old one");
    drop(fresh);
    app.stop().await;
}

/// The `id` of the first message of `stream`: where a fresh stream says it started.
async fn first_id(stream: &mut reqwest::Response) -> String {
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block = &buffer[..end];
            return block
                .lines()
                .find_map(|line| line.strip_prefix("id: "))
                .unwrap_or_else(|| panic!("the first message has an id: {block:?}"))
                .to_owned();
        }
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("a first message in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// A fresh stream says where it started, so that one broken before its first notification
/// (its token expired, the network dropped) resumes without losing what was filed between.
async fn a_fresh_stream_says_where_it_starts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let open = |last: Option<&str>| {
        let request = app.as_user(&customer, Method::GET, "/notifications/stream");
        match last {
            Some(id) => request.header("last-event-id", id),
            None => request,
        }
        .send()
    };
    let mut fresh = open(None).await.unwrap();
    let nothing_yet = first_id(&mut fresh).await;
    assert_eq!(nothing_yet, Uuid::nil().to_string(), "no notification yet");
    drop(fresh);

    // Filed while no stream is open.
    let good = card(&app, &customer, GOOD_CARD).await;
    let items = json!([{"product_id": shop.pizza.0, "quantity": 1}]);
    json_of(order_request(
        &app,
        &customer,
        "between",
        &pickup(items, &good),
    ))
    .await;
    app.eventually("the customer is told", || async {
        !kinds(&app, &customer).await.is_empty()
    })
    .await;
    let mut resumed = open(Some(&nothing_yet)).await.unwrap();
    let (id, missed) = events(&mut resumed, 1).await.remove(0);
    assert_eq!(
        missed["kind"], "order_placed",
        "what was filed between comes"
    );
    drop(resumed);

    let mut again = open(None).await.unwrap();
    assert_eq!(first_id(&mut again).await, id, "the newest notification");
    drop(again);
    app.stop().await;
}

async fn a_stream_resumes_only_after_one_of_the_callers_notifications(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let stranger = app.signup("customer").await;
    let good = card(&app, &customer, GOOD_CARD).await;
    let items = json!([{"product_id": shop.pizza.0, "quantity": 1}]);
    order_request(&app, &customer, "resume", &pickup(items, &good))
        .send()
        .await
        .unwrap();
    app.eventually("the customer is told", || async {
        !kinds(&app, &customer).await.is_empty()
    })
    .await;
    let page = json_of(app.as_user(&customer, Method::GET, "/notifications")).await;
    let theirs = page["items"][0]["id"].as_str().unwrap().to_owned();
    let resume = |who: &Session, id: &str| {
        app.as_user(who, Method::GET, "/notifications/stream")
            .header("last-event-id", id)
            .send()
    };

    // One from the future would hold back everything until a newer one came.
    let future = Uuid::now_v7().to_string();
    for (who, id) in [(&customer, future.as_str()), (&stranger, theirs.as_str())] {
        let refused = resume(who, id).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            problem(refused).await["errors"][0]["field"],
            "Last-Event-ID"
        );
    }
    let resumed = resume(&customer, &theirs).await.unwrap();
    assert_eq!(resumed.status(), StatusCode::OK);
    drop(resumed);
    app.stop().await;
}

backend_test!(
    notification_stream_resume_checked,
    a_stream_resumes_only_after_one_of_the_callers_notifications
);
backend_test!(notification_inbox, everyone_concerned_is_told);
backend_test!(
    notification_stream_resume,
    a_fresh_stream_starts_now_and_a_resumed_one_replays_what_was_missed
);
backend_test!(notification_stream, the_stream_is_live);

async fn emails_are_sent_and_retried(backend: Backend) {
    let sink = ordo_testkit::SmtpSink::start().await;
    let smtp = format!("smtp://{}", sink.addr);
    let app = TestApp::spawn_with(backend, |config| {
        config.smtp_url = Some(ordo_kernel::Secret::new(smtp));
        config.bus.retry_base_ms = 20;
    })
    .await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let good = card(&app, &customer, GOOD_CARD).await;
    sink.refuse_next(2);
    order_request(
        &app,
        &customer,
        "e1",
        &pickup(json!([{"product_id": shop.pizza.0, "quantity": 1}]), &good),
    )
    .send()
    .await
    .unwrap();
    app.eventually("the customer and the merchant get their emails", || async {
        let messages = sink.messages();
        messages
            .iter()
            .any(|m| m.to.iter().any(|t| t.contains(&customer.email)) && m.data.contains("placed"))
            && messages.iter().any(|m| {
                m.to.iter().any(|t| t.contains(&shop.owner.email)) && m.data.contains("New order")
            })
    })
    .await;
    let attempts = || async {
        app.databases["notifications"]
            .fetch_all::<(String, i64)>(
                "SELECT status, COUNT(*) FROM email_attempts GROUP BY status ORDER BY status",
                params![],
            )
            .await
            .unwrap()
    };
    let expected = vec![("failed".to_owned(), 2), ("sent".to_owned(), 2)];
    app.eventually("two refusals and two deliveries are recorded", || async {
        attempts().await == expected
    })
    .await;
    app.stop().await;
}

backend_test!(notification_email, emails_are_sent_and_retried);
backend_test!(
    stream_says_where_it_starts,
    a_fresh_stream_says_where_it_starts
);
