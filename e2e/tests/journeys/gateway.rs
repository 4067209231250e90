//! What the gateway does for every route: input errors, rate limits, headers, request ids.

use ordo_e2e::{PASSWORD, TestApp, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn bad_input_is_refused_and_nothing_is_written(backend: Backend) {
    // A small limit, so the oversized body below fits in the socket buffers: the server
    // answers 413 without reading it, and a client still writing would see a reset instead.
    let app = TestApp::spawn_with(backend, |config| config.http.body_limit_bytes = 4096).await;
    let before = app.count("identity", "users").await;
    let register = || app.api(Method::POST, "/auth/register");
    let valid =
        json!({"email": "eve@example.com", "password": PASSWORD, "name": "Eve"}).to_string();
    // Signed webhooks read their bodies as bytes, to check the signature over them.
    let raw = |path: &str| {
        app.api(Method::POST, path)
            .header("content-type", "application/json")
            .header("ordo-signature", "t=1,v1=00")
            .body(format!("{{\"id\":\"{}\"}}", "a".repeat(16 << 10)))
    };
    let parcel_events = format!("/shipments/{}/events", uuid::Uuid::now_v7());

    let cases = [
        ("malformed JSON", register().header("content-type", "application/json").body("{\"email\": "), 400, "malformed-request"),
        ("wrong content type", register().header("content-type", "text/plain").body(valid.clone()), 415, "unsupported-media-type"),
        ("no content type", register().body(valid.clone()), 415, "unsupported-media-type"),
        ("16 KiB body", register().header("content-type", "application/json").body(format!("{{\"email\":\"{}\"}}", "a".repeat(16 << 10))), 413, "payload-too-large"),
        ("16 KiB payment event", raw("/webhooks/payments"), 413, "payload-too-large"),
        ("16 KiB carrier event", raw(&parcel_events), 413, "payload-too-large"),
        ("unknown field", register().json(&json!({"email": "eve@example.com", "password": PASSWORD, "name": "Eve", "is_admin": true})), 422, "validation"),
        ("admin role", register().json(&json!({"email": "eve@example.com", "password": PASSWORD, "name": "Eve", "role": "admin"})), 422, "validation"),
        ("short password", register().json(&json!({"email": "eve@example.com", "password": "short", "name": "Eve"})), 422, "validation"),
        ("wrong type", register().json(&json!({"email": 7, "password": PASSWORD, "name": "Eve"})), 422, "validation"),
    ];
    for (name, request, status, kind) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{name}");
        let body = problem(response).await;
        assert_eq!(body["status"], status, "{name}");
        assert!(
            body["type"].as_str().unwrap().ends_with(kind),
            "{name}: {body}"
        );
        assert_eq!(
            app.count("identity", "users").await,
            before,
            "{name} wrote nothing"
        );
    }

    let unknown = problem(register().json(&json!({"email": "e@example.com", "password": PASSWORD, "name": "E", "is_admin": true})).send().await.unwrap()).await;
    assert_eq!(unknown["errors"][0]["field"], "is_admin");

    let absent = app.api(Method::GET, "/no/such/route").send().await.unwrap();
    assert_eq!(absent.status(), StatusCode::NOT_FOUND);
    problem(absent).await;
    let wrong_method = app.api(Method::DELETE, "/auth/login").send().await.unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    problem(wrong_method).await;
    let bad_id = app.admin().await;
    let not_an_id = app
        .as_user(&bad_id, Method::GET, "/users/not-a-uuid")
        .send()
        .await
        .unwrap();
    assert_eq!(not_an_id.status(), StatusCode::NOT_FOUND);
    problem(not_an_id).await;
    app.stop().await;
}
backend_test!(bad_input, bad_input_is_refused_and_nothing_is_written);

async fn oversized_heads_get_problem_documents(backend: Backend) {
    let app = TestApp::spawn(backend.clone()).await;
    let get = |path: &str| app.client.get(app.url(path));
    let within = get("/healthz")
        .header("x-padding", "a".repeat(15 << 10))
        .send()
        .await
        .unwrap();
    assert_eq!(within.status(), StatusCode::OK, "15 KiB of headers pass");
    let one_large = get("/healthz").header("x-padding", "a".repeat(20 << 10));
    let many = (0..5).fold(get("/healthz"), |request, n| {
        request.header(format!("x-padding-{n}"), "a".repeat(4 << 10))
    });
    for (why, request) in [("one 20 KiB header", one_large), ("five of 4 KiB", many)] {
        let refused = request.send().await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "{why}"
        );
        let body = problem(refused).await;
        assert!(
            body["type"]
                .as_str()
                .unwrap()
                .ends_with("/header-fields-too-large"),
            "{why}: {body}"
        );
    }
    let long = get(&format!("/api/v1/merchants?near={}", "1".repeat(9 << 10)))
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), StatusCode::URI_TOO_LONG);
    assert!(
        problem(long).await["type"]
            .as_str()
            .unwrap()
            .ends_with("/uri-too-long")
    );
    app.stop().await;

    // Both limits are configurable.
    let app = TestApp::spawn_with(backend, |config| {
        config.http.max_header_bytes = 4096;
        config.http.max_uri_bytes = 2048;
    })
    .await;
    let header = |bytes: usize| {
        app.client
            .get(app.url("/healthz"))
            .header("x-padding", "a".repeat(bytes))
    };
    let target = |bytes: usize| {
        app.client
            .get(app.url(&format!("/healthz?{}", "a".repeat(bytes))))
    };
    for (request, status) in [
        (header(3 << 10), StatusCode::OK),
        (header(5 << 10), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        (target(1 << 10), StatusCode::OK),
        (target(3 << 10), StatusCode::URI_TOO_LONG),
    ] {
        assert_eq!(request.send().await.unwrap().status(), status);
    }
    app.stop().await;
}
backend_test!(oversized_heads, oversized_heads_get_problem_documents);

async fn bursts_past_the_quota_get_429_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.rate_limit.anonymous = ordo_http::ratelimit::Quota::new(60, 5);
        config.rate_limit.customer = ordo_http::ratelimit::Quota::new(60, 8);
    })
    .await;
    let session = app.signup("customer").await;

    let mut statuses = Vec::new();
    for _ in 0..10 {
        let response = app.api(Method::GET, "/openapi.json").send().await.unwrap();
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=2).contains(&wait), "retry after {wait}s");
            assert!(
                problem(response).await["type"]
                    .as_str()
                    .unwrap()
                    .ends_with("/rate-limited")
            );
        }
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "anonymous burst limited: {statuses:?}"
    );

    // An authenticated caller has their own bucket, so the exhausted IP bucket does not matter.
    let mine = app
        .as_user(&session, Method::GET, "/me")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), StatusCode::OK);
    let mut limited = false;
    for _ in 0..10 {
        limited |= app
            .as_user(&session, Method::GET, "/me")
            .send()
            .await
            .unwrap()
            .status()
            == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited, "the customer quota applies");
    app.stop().await;
}
backend_test!(rate_limits, bursts_past_the_quota_get_429_with_retry_after);

async fn throttled_clients_get_429_whatever_they_send(backend: Backend) {
    // One request a minute once the burst is spent: nothing comes back while the test runs.
    let app = TestApp::spawn_with(backend, |config| {
        config.rate_limit.anonymous = ordo_http::ratelimit::Quota::new(1, 3);
    })
    .await;
    let forged = || {
        app.api(Method::GET, "/me")
            .bearer_auth("eyJhbGciOiJFZERTQSJ9.e30.c2lnbmF0dXJl")
    };
    for _ in 0..3 {
        let refused = forged().send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        problem(refused).await;
    }
    // The limiter counts a bad token against the address before it is refused: a client
    // guessing tokens is throttled, not answered 401 without end.
    let throttled = forged().send().await.unwrap();
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key("retry-after"));
    problem(throttled).await;
    // Probes are limited per client like everything else.
    for path in ["/healthz", "/readyz"] {
        let probe = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(probe.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        problem(probe).await;
    }
    app.stop().await;
}
backend_test!(
    throttled_clients,
    throttled_clients_get_429_whatever_they_send
);

async fn logins_are_limited_per_account_and_address(backend: Backend) {
    // One attempt a minute once a burst is spent: nothing refills while the test runs.
    let app = TestApp::spawn_with(backend, |config| {
        config.identity.login_per_account_and_ip = ordo_http::ratelimit::Quota::new(1, 3);
        config.identity.login_per_account = ordo_http::ratelimit::Quota::new(1, 6);
    })
    .await;
    // Signing up logs in once from this test's address: one attempt of the pair's three.
    let session = app.signup("customer").await;
    let login = |password: &str| {
        app.api(Method::POST, "/auth/login")
            .json(&json!({"email": session.email, "password": password}))
    };
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(login("guessing wrong").send().await.unwrap().status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "guessing from one address is slowed down"
    );
    let right_password_too = login(PASSWORD).send().await.unwrap();
    assert_eq!(right_password_too.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right_password_too.headers().contains_key("retry-after"));
    problem(right_password_too).await;

    // The owner, elsewhere, still logs in: the address spent its own quota, not the
    // account's. (Other addresses through the use case the route calls with the peer's.)
    let elsewhere = |last: u8| std::net::IpAddr::from([198, 51, 100, last]);
    let identity = app.identity();
    identity
        .login(&session.email, PASSWORD, elsewhere(1))
        .await
        .expect("the owner logs in from another address");

    // Guessing spread over many addresses still meets the account's ceiling: six attempts
    // in all (one at sign-up, two wrong here, one from elsewhere, two more below).
    for last in [2, 3] {
        assert!(matches!(
            identity
                .login(&session.email, "guessing wrong", elsewhere(last))
                .await,
            Err(ordo_identity::AppError::Service(
                ordo_identity::IdentityError::InvalidCredentials
            ))
        ));
    }
    assert!(matches!(
        identity.login(&session.email, PASSWORD, elsewhere(4)).await,
        Err(ordo_identity::AppError::Service(
            ordo_identity::IdentityError::RateLimited(_)
        ))
    ));
    app.stop().await;
}
backend_test!(login_limits, logins_are_limited_per_account_and_address);

async fn every_response_carries_ids_and_security_headers(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.http.cors_origins = vec!["https://shop.example".into()];
        config.http.tls = true;
    })
    .await;
    let response = app
        .api(Method::GET, "/me")
        .header("x-request-id", "req-42")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let headers = response.headers();
    assert_eq!(headers["x-request-id"], "req-42");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );

    let generated = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "a request id is generated: {id}"
    );

    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/me"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let foreign = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        !foreign
            .headers()
            .contains_key("access-control-allow-origin")
    );

    // Through a broker, ready once it was reached.
    app.until_ready_is(true).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
    assert!(metrics.contains("db_pool_connections"));
    // The bus reports its outboxes as soon as it runs.
    assert!(
        metrics.contains("bus_outbox_backlog{service=\"identity\"}"),
        "{metrics}"
    );
    app.stop().await;
}
backend_test!(headers, every_response_carries_ids_and_security_headers);

async fn metrics_can_be_restricted_to_administrators(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.http.metrics_public = false).await;
    let anonymous = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let customer = app.signup("customer").await;
    let denied = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&customer.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let admin = app.admin().await;
    let allowed = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    app.stop().await;
}
backend_test!(
    restricted_metrics,
    metrics_can_be_restricted_to_administrators
);
