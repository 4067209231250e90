//! Stock levels over HTTP: set and read by the product's merchant staff only.

use ordo_e2e::{TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn staff_set_and_read_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.signup("merchant").await;
    let rival = app.signup("merchant").await;
    let customer = app.signup("customer").await;
    let courier = app.signup("courier").await;
    let merchant = json_of(app.as_user(&owner, Method::POST, "/merchants").json(&json!({
        "name": "Corner Shop", "kind": "shop", "address": "Main Street 1", "lat": 52.5, "lon": 13.4
    })))
    .await;
    let product = json_of(
        app.as_user(&owner, Method::POST, &format!("/merchants/{}/products", merchant["id"].as_str().unwrap()))
            .json(&json!({"name": "Milk", "category": "Dairy", "price": {"amount": 129, "currency": "EUR"}})),
    )
    .await;
    let stock = format!("/products/{}/stock", product["id"].as_str().unwrap());

    let fresh = json_of(app.as_user(&owner, Method::GET, &stock)).await;
    assert_eq!(
        fresh,
        json!({"on_hand": 0, "reserved": 0, "available": 0, "slots": 1})
    );
    let set = app
        .as_user(&owner, Method::PUT, &stock)
        .json(&json!({"on_hand": 40}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(
        set.json::<serde_json::Value>().await.unwrap(),
        json!({"on_hand": 40, "reserved": 0, "available": 40, "slots": 1})
    );
    // A product that sells fast is kept in several rows; the count is the same.
    let spread = app
        .as_user(&owner, Method::PUT, &stock)
        .json(&json!({"on_hand": 40, "slots": 8}));
    assert_eq!(
        json_of(spread).await,
        json!({"on_hand": 40, "reserved": 0, "available": 40, "slots": 8})
    );

    // Another merchant's staff do not see the product's stock; other roles never may.
    for (who, status) in [
        (&rival, StatusCode::NOT_FOUND),
        (&customer, StatusCode::FORBIDDEN),
        (&courier, StatusCode::FORBIDDEN),
    ] {
        let response = app
            .as_user(who, Method::PUT, &stock)
            .json(&json!({"on_hand": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        problem(response).await;
        assert_eq!(
            app.as_user(who, Method::GET, &stock)
                .send()
                .await
                .unwrap()
                .status(),
            status
        );
    }
    assert_eq!(
        app.api(Method::GET, &stock).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    for body in [
        json!({"on_hand": -1}),
        json!({"on_hand": 5, "reserved": 2}),
        json!({"on_hand": "many"}),
        json!({"on_hand": 5, "slots": 0}),
        json!({"on_hand": 5, "slots": 65}),
    ] {
        let response = app
            .as_user(&owner, Method::PUT, &stock)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        problem(response).await;
    }
    let absent = format!("/products/{}/stock", uuid::Uuid::now_v7());
    assert_eq!(
        app.as_user(&owner, Method::GET, &absent)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        json_of(app.as_user(&owner, Method::GET, &stock)).await,
        json!({"on_hand": 40, "reserved": 0, "available": 40, "slots": 8}),
        "nothing changed"
    );
    app.stop().await;
}

backend_test!(stock_levels, staff_set_and_read_stock);
