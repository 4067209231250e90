//! Live streams per user: twenty at most, notifications and tracking together (429 past
//! that, each user their own), a place given back when a stream ends; a stream ends when
//! its access token expires (resumed with new tokens) and when its user is disabled, whose
//! tokens then open none.

use ordo_e2e::fixtures::{complete, paid_order, shop};
use ordo_e2e::{EventStream, Session, SseEvent, TestApp, problem};
use ordo_http::auth::{ACCESS_TOKEN_TYPE, AccessClaims};
use ordo_kernel::Role;
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Every event until the server closes the stream (each within `EventStream`'s bound).
async fn to_the_end(mut stream: EventStream) -> Vec<SseEvent> {
    let mut seen = Vec::new();
    while let Some(event) = stream.next().await {
        seen.push(event);
    }
    seen
}

/// An access token of `who`'s, as identity signs them, living `secs` seconds.
fn token_for(app: &TestApp, who: &Session, secs: i64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = AccessClaims {
        iss: app.config.identity.issuer.clone(),
        aud: app.config.identity.audience.clone(),
        sub: who.id,
        exp: now + secs,
        nbf: now,
        iat: now,
        role: Role::Customer,
        typ: ACCESS_TOKEN_TYPE.into(),
    };
    app.identity().keyring().sign(&claims).unwrap()
}

async fn a_user_holds_twenty_streams_at_most_of_both_kinds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let waiting = paid_order(&app, &shop, &customer, "cap-1").await;
    let finishing = paid_order(&app, &shop, &customer, "cap-2").await;
    let open = |path: &str| app.as_user(&customer, Method::GET, path).send();
    let notifications = "/notifications/stream";
    let (track_waiting, track_finishing) = (
        format!("/orders/{waiting}/track"),
        format!("/orders/{finishing}/track"),
    );

    let mut streams = Vec::new();
    for n in 0..19 {
        let path = if n % 2 == 0 {
            notifications
        } else {
            &track_waiting
        };
        streams.push(EventStream::new(open(path).await.unwrap()));
    }
    let last = EventStream::new(open(&track_finishing).await.unwrap());

    for path in [notifications, &track_waiting] {
        let refused = open(path).await.unwrap();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        assert!(refused.headers().contains_key("retry-after"));
        let body = problem(refused).await;
        assert_eq!(body["type"], "https://ordo.dev/problems/rate-limited");
    }
    let neighbour = app.signup("customer").await;
    let theirs = app
        .as_user(&neighbour, Method::GET, notifications)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::OK, "each user their own");

    // A stream that ends gives its place back.
    complete(&app, &shop, &finishing).await;
    let ended = to_the_end(last).await;
    assert_eq!(ended.last().unwrap().event, "end");
    let again = EventStream::new(open(notifications).await.unwrap());
    let over = open(notifications).await.unwrap();
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    drop((streams, again, theirs));
    app.stop().await;
}
backend_test!(
    streams_per_user,
    a_user_holds_twenty_streams_at_most_of_both_kinds
);

async fn a_stream_ends_with_its_token_and_resumes_with_new_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let order = paid_order(&app, &shop, &customer, "expiry").await;
    let track = format!("/orders/{order}/track");
    let short = token_for(&app, &customer, 2);
    let open = |path: &str, token: &str| app.api(Method::GET, path).bearer_auth(token).send();
    let tracking = EventStream::new(open(&track, &short).await.unwrap());
    let inbox = EventStream::new(open("/notifications/stream", &short).await.unwrap());

    let seen = to_the_end(tracking).await;
    let statuses: Vec<&str> = seen
        .iter()
        .filter(|e| e.event == "status")
        .map(|e| e.data["to"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pending_payment", "paid"]);
    assert!(seen.iter().all(|e| e.event != "end"), "not the order's end");
    to_the_end(inbox).await;

    // The gateway would still take the token (its leeway): a stream is not opened with it.
    let stale = open(&track, &short).await.unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    problem(stale).await;

    // Renewed, resumed after the last status seen: what follows, nothing again.
    let paid = seen.iter().rev().find(|e| e.event == "status").unwrap();
    let resumed = app
        .as_user(&customer, Method::GET, &track)
        .header("last-event-id", paid.id.clone().unwrap())
        .send()
        .await
        .unwrap();
    let mut resumed = EventStream::new(resumed);
    let accept = format!("/orders/{order}/accept");
    let accepted = app.as_user(&shop.owner, Method::POST, &accept).send();
    assert_eq!(accepted.await.unwrap().status(), StatusCode::OK);
    let next = resumed.until(|e| e.event == "status").await;
    assert_eq!(next.last().unwrap().data["to"], "accepted");
    drop(resumed);
    app.stop().await;
}
backend_test!(
    stream_token_expiry,
    a_stream_ends_with_its_token_and_resumes_with_new_ones
);

async fn a_disabled_users_streams_end_and_no_more_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let order = paid_order(&app, &shop, &customer, "disabled").await;
    let track = format!("/orders/{order}/track");
    let open = |path: &str| app.as_user(&customer, Method::GET, path).send();
    let mut tracking = EventStream::new(open(&track).await.unwrap());
    tracking.until(|e| e.data["to"] == "paid").await;
    let inbox = EventStream::new(open("/notifications/stream").await.unwrap());

    let admin = app.admin().await;
    let disable = app
        .as_user(
            &admin,
            Method::PATCH,
            &format!("/admin/users/{}", customer.id),
        )
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disable.status(), StatusCode::OK);

    assert!(
        to_the_end(tracking).await.is_empty(),
        "ended, without `end`"
    );
    to_the_end(inbox).await;
    for path in [track.as_str(), "/notifications/stream"] {
        let refused = open(path).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{path}");
        problem(refused).await;
    }
    app.stop().await;
}
backend_test!(
    stream_user_disabled,
    a_disabled_users_streams_end_and_no_more_open
);
