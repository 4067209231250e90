//! Accounts, sessions, profiles and addresses.

use ordo_e2e::{PASSWORD, TestApp, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn register_login_refresh_logout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let register = app
        .api(Method::POST, "/auth/register")
        .json(&json!({"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);
    let user: Value = register.json().await.unwrap();
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["role"], "customer");
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());

    let taken = app
        .api(Method::POST, "/auth/register")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert!(
        problem(taken).await["type"]
            .as_str()
            .unwrap()
            .ends_with("/email-taken")
    );

    let session = app.login("ada@example.com", PASSWORD).await;
    let me: Value = app
        .as_user(&session, Method::GET, "/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Ada");

    // Refresh rotates: a new pair, and the old refresh token is spent.
    let refreshed: Value = app
        .api(Method::POST, "/auth/refresh")
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = refreshed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, session.refresh_token);
    assert_eq!(refreshed["token_type"], "Bearer");
    assert_eq!(refreshed["expires_in"], 900);

    // Replaying the spent token revokes the family: the newer token dies with it.
    let replay = app
        .api(Method::POST, "/auth/refresh")
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let after_revoke = app
        .api(Method::POST, "/auth/refresh")
        .json(&json!({"refresh_token": second}))
        .send()
        .await
        .unwrap();
    assert_eq!(after_revoke.status(), StatusCode::UNAUTHORIZED);

    // Logout revokes the family of the token given.
    let session = app.login("ada@example.com", PASSWORD).await;
    let logout = app
        .as_user(&session, Method::POST, "/auth/logout")
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let after_logout = app
        .api(Method::POST, "/auth/refresh")
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(after_logout.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}
backend_test!(account_journey, register_login_refresh_logout);

async fn wrong_credentials_all_look_the_same(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.signup("customer").await;
    let mut bodies = Vec::new();
    for (email, password) in [
        (session.email.as_str(), "wrong password!"),
        ("nobody@example.com", PASSWORD),
    ] {
        let response = app
            .api(Method::POST, "/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        bodies.push(problem(response).await);
    }
    assert_eq!(
        bodies[0], bodies[1],
        "unknown email and wrong password are indistinguishable"
    );

    // A disabled account cannot log in either, with the same answer.
    let admin = app.admin().await;
    let disable = app
        .as_user(
            &admin,
            Method::PATCH,
            &format!("/admin/users/{}", session.id),
        )
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disable.status(), StatusCode::OK);
    let disabled = app
        .api(Method::POST, "/auth/login")
        .json(&json!({"email": session.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem(disabled).await, bodies[0]);
    let refresh = app
        .api(Method::POST, "/auth/refresh")
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refresh.status(),
        StatusCode::UNAUTHORIZED,
        "disabling ends sessions"
    );
    app.stop().await;
}
backend_test!(login_failures, wrong_credentials_all_look_the_same);

async fn passwords_are_stored_as_argon2id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.signup("merchant").await;
    let (hash,): (String,) = app.databases["identity"]
        .fetch_one(
            "SELECT password_hash FROM users WHERE id = $1",
            ordo_db::params![session.id],
        )
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
    let (stored,): (i64,) = app.databases["identity"]
        .fetch_one(
            "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = $1",
            ordo_db::params![session.refresh_token],
        )
        .await
        .unwrap();
    assert_eq!(stored, 0, "refresh tokens are stored only as hashes");
    app.stop().await;
}
backend_test!(password_storage, passwords_are_stored_as_argon2id);

async fn profile_changes_are_limited_to_own_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.signup("customer").await;
    for forbidden in [
        json!({"role": "admin"}),
        json!({"email_verified": true}),
        json!({"name": "X", "nickname": "y"}),
    ] {
        let response = app
            .as_user(&session, Method::PATCH, "/me")
            .json(&forbidden)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{forbidden}"
        );
        let body = problem(response).await;
        let field = forbidden
            .as_object()
            .unwrap()
            .keys()
            .find(|k| *k != "name")
            .unwrap()
            .clone();
        assert_eq!(body["errors"][0]["field"], field.as_str());
    }
    let me: Value = app
        .as_user(&session, Method::GET, "/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            me["role"].as_str(),
            me["name"].as_str(),
            me["email_verified"].as_bool()
        ),
        (Some("customer"), Some("Test User"), Some(false))
    );

    let changed: Value = app
        .as_user(&session, Method::PATCH, "/me")
        .json(&json!({"name": "  Grace Hopper ", "phone": "+4915112345678"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (changed["name"].as_str(), changed["phone"].as_str()),
        (Some("Grace Hopper"), Some("+4915112345678"))
    );
    let cleared: Value = app
        .as_user(&session, Method::PATCH, "/me")
        .json(&json!({"phone": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(cleared["phone"].is_null());

    // Another user's profile does not exist for this caller; an administrator sees it.
    let other = app.signup("courier").await;
    let hidden = app
        .as_user(&session, Method::GET, &format!("/users/{}", other.id))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let own = app
        .as_user(&session, Method::GET, &format!("/users/{}", session.id))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let admin = app.admin().await;
    let seen = app
        .as_user(&admin, Method::GET, &format!("/users/{}", other.id))
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), StatusCode::OK);
    app.stop().await;
}
backend_test!(profile, profile_changes_are_limited_to_own_fields);

async fn addresses_belong_to_their_owner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.signup("customer").await;
    let bob = app.signup("customer").await;
    let home = json!({"label": "home", "line1": "Alexanderplatz 1", "city": "Berlin",
        "postal_code": "10178", "country": "de", "lat": 52.5219, "lon": 13.4132});
    let created = app
        .as_user(&ada, Method::POST, "/me/addresses")
        .json(&home)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let address: Value = created.json().await.unwrap();
    assert_eq!(address["country"], "DE");
    let id = address["id"].as_str().unwrap().to_owned();

    let invalid = app
        .as_user(&ada, Method::POST, "/me/addresses")
        .json(&json!({"line1": "", "city": "Berlin", "postal_code": "1", "country": "Germany", "lat": 100.0, "lon": 0.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = problem(invalid).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["line1", "country", "lat"]);

    // A field the API does not know is refused, beside the postal ones as well as in a patch.
    let mut with_floor = home.clone();
    with_floor["floor"] = json!(3);
    for (method, path, body) in [
        (Method::POST, "/me/addresses".to_owned(), with_floor),
        (
            Method::PATCH,
            format!("/me/addresses/{id}"),
            json!({"city": "Bonn", "door": "B"}),
        ),
    ] {
        let refused = app
            .as_user(&ada, method, &path)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let error = &problem(refused).await["errors"][0];
        assert_eq!(error["detail"], "unknown field", "{path}");
    }

    let patched: Value = app
        .as_user(&ada, Method::PATCH, &format!("/me/addresses/{id}"))
        .json(&json!({"line2": "3rd floor", "label": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (patched["line2"].as_str(), patched["label"].is_null()),
        (Some("3rd floor"), true)
    );

    for (method, body) in [
        (Method::PATCH, Some(json!({"city": "Hamburg"}))),
        (Method::DELETE, None),
    ] {
        let mut request = app.as_user(&bob, method.clone(), &format!("/me/addresses/{id}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{method}"
        );
    }
    let bobs: Value = app
        .as_user(&bob, Method::GET, "/me/addresses")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["items"].as_array().unwrap().len(), 0);

    let deleted = app
        .as_user(&ada, Method::DELETE, &format!("/me/addresses/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let list: Value = app
        .as_user(&ada, Method::GET, "/me/addresses")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}
backend_test!(addresses, addresses_belong_to_their_owner);

async fn administrators_list_and_change_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customer = app.signup("customer").await;
    for _ in 0..3 {
        app.signup("courier").await;
    }
    let forbidden = app
        .as_user(&customer, Method::GET, "/admin/users")
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert!(
        problem(forbidden).await["type"]
            .as_str()
            .unwrap()
            .ends_with("/forbidden")
    );

    let admin = app.admin().await;
    let first: Value = app
        .as_user(&admin, Method::GET, "/admin/users?role=courier&limit=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .as_user(
            &admin,
            Method::GET,
            &format!("/admin/users?role=courier&limit=2&cursor={cursor}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());

    let bad_limit = app
        .as_user(&admin, Method::GET, "/admin/users?limit=0")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_limit.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let promoted: Value = app
        .as_user(
            &admin,
            Method::PATCH,
            &format!("/admin/users/{}", customer.id),
        )
        .json(&json!({"role": "merchant"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(promoted["role"], "merchant");

    let self_lockout = app
        .as_user(&admin, Method::PATCH, &format!("/admin/users/{}", admin.id))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(self_lockout.status(), StatusCode::CONFLICT);
    app.stop().await;
}
backend_test!(admin_users, administrators_list_and_change_users);
