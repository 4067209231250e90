//! A forgotten password: a link by email, valid 30 minutes, used once, kept only as a hash;
//! using it ends every session; the same answer whether or not the address has an account;
//! throttled per address and per client.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ordo_db::{FromRow, params};
use ordo_e2e::{EventStream, PASSWORD, Session, TestApp, json_of, problem};
use ordo_http::ratelimit::Quota;
use ordo_testkit::{Backend, SmtpSink, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::json;
use time::OffsetDateTime;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// A row of `password_resets`, as the first journey reads it.
#[derive(FromRow)]
struct ResetRow {
    token_hash: String,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

/// A platform mailing through `sink`, with links to `https://shop.example`.
async fn mailing(backend: Backend, sink: &SmtpSink) -> TestApp {
    let smtp = format!("smtp://{}", sink.addr);
    TestApp::spawn_with(backend, |config| {
        config.smtp_url = Some(ordo_kernel::Secret::new(smtp));
        config.public_url = Some("https://shop.example/".into());
    })
    .await
}

async fn ask_for_a_link(app: &TestApp, email: &str) -> reqwest::Response {
    app.api(Method::POST, "/auth/password-reset")
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap()
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.api(Method::POST, "/auth/password-reset/confirm")
        .json(&json!({ "token": token, "password": password }))
        .send()
        .await
        .unwrap()
}

/// The links mailed to `email` so far, oldest first (quoted-printable soft breaks undone).
fn links_to(sink: &SmtpSink, email: &str) -> Vec<String> {
    sink.messages()
        .iter()
        .filter(|m| m.to.iter().any(|to| to.contains(email)))
        .filter_map(|m| {
            let body = m.data.replace("=\n", "").replace("=3D", "=");
            let start = body.find("https://shop.example/#/reset?token=")?;
            let link = body[start..].split_whitespace().next()?;
            Some(link.to_owned())
        })
        .collect()
}

/// Waits for the `count`th link mailed to `email` and returns its token.
async fn mailed_token(app: &TestApp, sink: &SmtpSink, email: &str, count: usize) -> String {
    app.eventually("the link is mailed", || async {
        links_to(sink, email).len() >= count
    })
    .await;
    let link = links_to(sink, email).swap_remove(count - 1);
    link.rsplit_once("token=").unwrap().1.to_owned()
}

async fn refresh_status(app: &TestApp, session: &Session) -> StatusCode {
    app.api(Method::POST, "/auth/refresh")
        .json(&json!({ "refresh_token": session.refresh_token }))
        .send()
        .await
        .unwrap()
        .status()
}

/// The field a 422 names first.
async fn refused_field(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    problem(response).await["errors"][0]["field"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_forgotten_password_is_reset_by_the_emailed_link(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = mailing(backend, &sink).await;
    let ada = app.signup("customer").await;
    let on_the_phone = app.login(&ada.email, PASSWORD).await;
    let mut live = EventStream::new(
        app.as_user(&ada, Method::GET, "/notifications/stream")
            .send()
            .await
            .unwrap(),
    );
    live.next().await.expect("where the stream starts");

    let asked = ask_for_a_link(&app, &ada.email).await;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let first = mailed_token(&app, &sink, &ada.email, 1).await;
    assert_eq!(
        ask_for_a_link(&app, &ada.email).await.status(),
        StatusCode::ACCEPTED
    );
    let second = mailed_token(&app, &sink, &ada.email, 2).await;
    assert!(first.starts_with("ordo_pr_") && first != second, "{first}");
    let mail = sink.messages().pop().unwrap();
    assert!(
        mail.data.contains("Reset your Ordo password"),
        "{}",
        mail.data
    );

    // Kept only as the SHA-256 of the token, for 30 minutes.
    let rows: Vec<ResetRow> = app.databases["identity"]
        .fetch_all(
            "SELECT token_hash, created_at, expires_at, used_at FROM password_resets
             WHERE user_id = $1 ORDER BY created_at",
            params![ada.id],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let hash = &rows[1].token_hash;
    let digest = ring::digest::digest(&ring::digest::SHA256, second.as_bytes());
    assert_eq!(*hash, URL_SAFE_NO_PAD.encode(digest));
    assert!(!hash.contains(&second[8..]));
    let (created, expires) = (rows[1].created_at, rows[1].expires_at);
    assert_eq!(expires - created, time::Duration::minutes(30));

    // The password's rules, as at sign-up; a refused request leaves the link usable.
    assert_eq!(
        refused_field(set_password(&app, &second, "short").await).await,
        "password"
    );
    let reset = set_password(&app, &second, NEW_PASSWORD).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);

    // Every session ended: refresh tokens of both logins, the live stream, and the access
    // tokens issued before open no stream again.
    assert_eq!(refresh_status(&app, &ada).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh_status(&app, &on_the_phone).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(live.next().await, None, "the live stream ended");
    let reopened = app
        .as_user(&on_the_phone, Method::GET, "/notifications/stream")
        .send()
        .await
        .unwrap();
    assert_eq!(reopened.status(), StatusCode::UNAUTHORIZED);

    let old = app
        .api(Method::POST, "/auth/login")
        .json(&json!({ "email": ada.email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    app.login(&ada.email, NEW_PASSWORD).await;

    // Used once; and the earlier link died with it.
    for used in [&second, &first] {
        let again = set_password(&app, used, "yet another passphrase").await;
        assert_eq!(refused_field(again).await, "token");
    }
    app.login(&ada.email, NEW_PASSWORD).await;
    app.stop().await;
}

/// The `password_reset.requested` events identity published.
async fn links_published(app: &TestApp) -> i64 {
    let (count,) = app.databases["identity"]
        .fetch_one(
            "SELECT COUNT(*) FROM bus_outbox WHERE type = 'password_reset.requested'",
            params![],
        )
        .await
        .unwrap();
    count
}

async fn an_unknown_address_is_answered_alike_and_an_old_link_refused(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = mailing(backend, &sink).await;
    let ada = app.signup("customer").await;

    let known = ask_for_a_link(&app, &ada.email).await;
    let unknown = ask_for_a_link(&app, "nobody@example.com").await;
    let answer = |response: reqwest::Response| async move {
        let status = response.status();
        let length = response.headers().get("content-length").cloned();
        (status, length, response.bytes().await.unwrap())
    };
    let (known, unknown) = (answer(known).await, answer(unknown).await);
    assert_eq!(known, unknown, "the same answer whatever the address");
    assert_eq!(known.0, StatusCode::ACCEPTED);

    // Both cost a row; only the account's is for someone, and only it is sent.
    assert_eq!(app.count("identity", "password_resets").await, 2);
    assert_eq!(links_published(&app).await, 1);
    let token = mailed_token(&app, &sink, &ada.email, 1).await;
    assert!(
        sink.messages()
            .iter()
            .all(|m| m.to.iter().all(|to| !to.contains("nobody@example.com")))
    );

    // Not an email address at all: 422, nothing written.
    assert_eq!(
        refused_field(ask_for_a_link(&app, "not an address").await).await,
        "email"
    );
    assert_eq!(app.count("identity", "password_resets").await, 2);

    // Past its 30 minutes, the link is refused and the password stays.
    app.databases["identity"]
        .execute(
            "UPDATE password_resets SET expires_at = $1",
            params![OffsetDateTime::UNIX_EPOCH],
        )
        .await
        .unwrap();
    let expired = set_password(&app, &token, NEW_PASSWORD).await;
    assert_eq!(refused_field(expired).await, "token");
    let made_up = set_password(&app, "ordo_pr_made-up", NEW_PASSWORD).await;
    assert_eq!(refused_field(made_up).await, "token");
    app.login(&ada.email, PASSWORD).await;
    app.stop().await;
}

async fn link_requests_are_throttled_per_address_and_per_client(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.identity.reset_per_account = Quota::new(1, 2);
        config.identity.reset_per_ip = Quota::new(1, 6);
    })
    .await;
    let ada = app.signup("customer").await;
    let too_many = |response: reqwest::Response| async move {
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        problem(response).await
    };
    // The address's quota, whether or not it has an account.
    for email in [ada.email.as_str(), "nobody@example.com"] {
        for _ in 0..2 {
            assert_eq!(
                ask_for_a_link(&app, email).await.status(),
                StatusCode::ACCEPTED
            );
        }
        too_many(ask_for_a_link(&app, email).await).await;
    }
    // The client's quota, whatever the address: six asked so far.
    let body = too_many(ask_for_a_link(&app, "someone-else@example.com").await).await;
    assert!(body["type"].as_str().unwrap().ends_with("/rate-limited"));
    assert_eq!(app.count("identity", "password_resets").await, 4);
    app.stop().await;
}

async fn phone_numbers_are_e164(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.signup("customer").await;
    for bad in [
        "+49 151 12345678",
        "4915112345678",
        "+04915112345678",
        "+123",
    ] {
        let refused = app
            .as_user(&ada, Method::PATCH, "/me")
            .json(&json!({ "phone": bad }))
            .send()
            .await
            .unwrap();
        assert_eq!(refused_field(refused).await, "phone", "{bad}");
    }
    let set = app
        .as_user(&ada, Method::PATCH, "/me")
        .json(&json!({ "phone": "+4915112345678" }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    let me = json_of(app.as_user(&ada, Method::GET, "/me")).await;
    assert_eq!(me["phone"], "+4915112345678");
    app.stop().await;
}

backend_test!(
    password_reset_by_link,
    a_forgotten_password_is_reset_by_the_emailed_link
);
backend_test!(
    password_reset_same_answer,
    an_unknown_address_is_answered_alike_and_an_old_link_refused
);
backend_test!(
    password_reset_throttled,
    link_requests_are_throttled_per_address_and_per_client
);
backend_test!(phone_numbers, phone_numbers_are_e164);
