//! Access tokens: every forgery and misuse is a 401; rotation keeps old tokens valid.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ordo_e2e::{Session, TestApp, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use ring::signature::KeyPair;
use serde_json::{Value, json};

/// The platform's current signing key and its id, read from the key file.
fn signing_key(app: &TestApp) -> (EncodingKey, String, String) {
    let text = std::fs::read_to_string(app.data_dir().join("keys/jwt-keys.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let current = file["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["retired_at"].is_null())
        .unwrap();
    let der = STANDARD
        .decode(current["private_pkcs8"].as_str().unwrap())
        .unwrap();
    (
        EncodingKey::from_ed_der(&der),
        current["kid"].as_str().unwrap().to_owned(),
        current["public"].as_str().unwrap().to_owned(),
    )
}

fn claims(session: &Session, change: impl FnOnce(&mut Value)) -> Value {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({
        "iss": "ordo", "aud": "ordo-api", "sub": session.id, "role": "customer", "typ": "access",
        "iat": now, "nbf": now, "exp": now + 600,
    });
    change(&mut claims);
    claims
}

fn signed(key: &EncodingKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    let response = app
        .api(Method::GET, "/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        assert!(response.headers().contains_key("www-authenticate"));
        assert!(
            problem(response).await["type"]
                .as_str()
                .unwrap()
                .ends_with("/unauthorized")
        );
    }
    status
}

async fn forged_and_misused_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.signup("customer").await;
    let (key, kid, public) = signing_key(&app);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    // The control: a token made exactly like the platform makes them is accepted, so each
    // refusal below is caused by the one thing that differs.
    assert_eq!(
        me_status(&app, &signed(&key, &kid, &claims(&session, |_| {}))).await,
        StatusCode::OK
    );

    let payload = URL_SAFE_NO_PAD.encode(claims(&session, |_| {}).to_string());
    let alg_none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );

    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    let hs256_with_public_key = jsonwebtoken::encode(
        &hs_header,
        &claims(&session, |_| {}),
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();

    let stranger =
        ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let stranger_public = ring::signature::Ed25519KeyPair::from_pkcs8(stranger.as_ref()).unwrap();
    assert_ne!(
        URL_SAFE_NO_PAD.encode(stranger_public.public_key().as_ref()),
        public
    );
    let unknown_kid = signed(
        &EncodingKey::from_ed_der(stranger.as_ref()),
        "not-a-known-key",
        &claims(&session, |_| {}),
    );
    let right_kid_wrong_key = signed(
        &EncodingKey::from_ed_der(stranger.as_ref()),
        &kid,
        &claims(&session, |_| {}),
    );

    let cases = [
        ("alg none", alg_none),
        ("HS256 signed with the public key", hs256_with_public_key),
        (
            "expired",
            signed(
                &key,
                &kid,
                &claims(&session, |c| {
                    c["exp"] = json!(now - 120);
                    c["iat"] = json!(now - 1000);
                    c["nbf"] = json!(now - 1000);
                }),
            ),
        ),
        (
            "nbf in the future",
            signed(
                &key,
                &kid,
                &claims(&session, |c| c["nbf"] = json!(now + 300)),
            ),
        ),
        (
            "wrong aud",
            signed(
                &key,
                &kid,
                &claims(&session, |c| c["aud"] = json!("someone-else")),
            ),
        ),
        (
            "wrong iss",
            signed(&key, &kid, &claims(&session, |c| c["iss"] = json!("evil"))),
        ),
        (
            "wrong typ",
            signed(
                &key,
                &kid,
                &claims(&session, |c| c["typ"] = json!("refresh")),
            ),
        ),
        ("unknown kid", unknown_kid),
        ("known kid, other key", right_kid_wrong_key),
        (
            "refresh token as access token",
            session.refresh_token.clone(),
        ),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (name, token) in cases {
        assert_eq!(
            me_status(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
    }

    let basic = app
        .api(Method::GET, "/me")
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let anonymous = app.api(Method::GET, "/me").send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Within the 60 s leeway an expired token still passes; beyond it, it does not.
    let just_expired = signed(
        &key,
        &kid,
        &claims(&session, |c| c["exp"] = json!(now - 30)),
    );
    assert_eq!(me_status(&app, &just_expired).await, StatusCode::OK);
    app.stop().await;
}
backend_test!(forged_tokens, forged_and_misused_tokens_are_refused);

async fn rotation_keeps_issued_tokens_valid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.signup("customer").await;
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (
            keys[0]["kty"].as_str(),
            keys[0]["crv"].as_str(),
            keys[0]["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    assert!(keys[0].get("d").is_none(), "no private part is published");
    let old_kid = keys[0]["kid"].as_str().unwrap().to_owned();

    let keys_file = app.data_dir().join("keys/jwt-keys.json");
    let new_kid =
        ordo_identity::Keyring::rotate(&keys_file, std::time::Duration::from_secs(960)).unwrap();
    let app = app.restart().await;

    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));
    assert_eq!(
        me_status(&app, &session.access_token).await,
        StatusCode::OK,
        "old tokens stay valid"
    );

    let fresh = app.login(&session.email, ordo_e2e::PASSWORD).await;
    let header = jsonwebtoken::decode_header(&fresh.access_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
    assert_eq!(header.alg, Algorithm::EdDSA);
    app.stop().await;
}
backend_test!(key_rotation, rotation_keeps_issued_tokens_valid);
