//! The catalogue: merchants and their products, written by their staff, read by anyone,
//! announced on the bus.

use ordo_db::params;
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn merchant_body(name: &str, lat: f64, lon: f64) -> Value {
    json!({
        "name": name,
        "kind": "restaurant",
        "address": "Kastanienallee 1, 10435 Berlin",
        "lat": lat,
        "lon": lon,
        "opening_hours": [{"day": "mon", "open": "11:00", "close": "22:00"}]
    })
}

async fn create_merchant(app: &TestApp, owner: &Session, name: &str, lat: f64, lon: f64) -> Value {
    let response = app
        .as_user(owner, Method::POST, "/merchants")
        .json(&merchant_body(name, lat, lon))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn events_of_type(app: &TestApp, event_type: &str) -> i64 {
    let (count,) = app.databases["catalog"]
        .fetch_one(
            "SELECT COUNT(*) FROM bus_outbox WHERE type = $1",
            params![event_type],
        )
        .await
        .unwrap();
    count
}

async fn status_of(request: reqwest::RequestBuilder) -> StatusCode {
    request.send().await.unwrap().status()
}

async fn staff_write_and_everyone_reads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.signup("merchant").await;
    let rival = app.signup("merchant").await;
    let customer = app.signup("customer").await;

    // Who may create a merchant.
    let body = merchant_body("Trattoria Roma", 52.54, 13.41);
    assert_eq!(
        status_of(app.api(Method::POST, "/merchants").json(&body)).await,
        StatusCode::UNAUTHORIZED
    );
    let refused = app
        .as_user(&customer, Method::POST, "/merchants")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    problem(refused).await;
    let invalid = app
        .as_user(&owner, Method::POST, "/merchants")
        .json(
            &json!({"name": "", "kind": "kiosk", "address": "x", "lat": 100, "lon": 0,
                      "opening_hours": [{"day": "mon", "open": "25:00", "close": "22:00"}]}),
        )
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
    assert_eq!(fields, ["name", "kind", "lat", "opening_hours[0].open"]);
    assert_eq!(
        app.count("catalog", "merchants").await,
        0,
        "nothing written"
    );

    let merchant = create_merchant(&app, &owner, "Trattoria Roma", 52.54, 13.41).await;
    let id = merchant["id"].as_str().unwrap().to_owned();
    assert_eq!(merchant["kind"], "restaurant");
    assert_eq!(merchant["opening_hours"][0]["open"], "11:00");
    let public: Value = json_of(app.api(Method::GET, &format!("/merchants/{id}"))).await;
    assert_eq!(public["name"], "Trattoria Roma");

    // Its staff find it among theirs; nobody else does.
    let mine: Value = json_of(app.as_user(&owner, Method::GET, "/me/merchants")).await;
    assert_eq!(mine["items"][0]["id"], id.as_str());
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs: Value = json_of(app.as_user(&rival, Method::GET, "/me/merchants")).await;
    assert_eq!(theirs["items"], json!([]));

    // Only its staff change it: another merchant's staff do not see it to change, and a
    // customer may never change a merchant.
    let rename = json!({"name": "Trattoria Roma Due"});
    for (who, status) in [
        (&rival, StatusCode::NOT_FOUND),
        (&customer, StatusCode::FORBIDDEN),
    ] {
        let response = app
            .as_user(who, Method::PATCH, &format!("/merchants/{id}"))
            .json(&rename)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        problem(response).await;
    }
    let renamed: Value = json_of(
        app.as_user(&owner, Method::PATCH, &format!("/merchants/{id}"))
            .json(&rename),
    )
    .await;
    assert_eq!(renamed["name"], "Trattoria Roma Due");
    let absent = uuid::Uuid::now_v7();
    assert_eq!(
        status_of(
            app.as_user(&owner, Method::PATCH, &format!("/merchants/{absent}"))
                .json(&rename)
        )
        .await,
        StatusCode::NOT_FOUND
    );

    // Products.
    let margherita = json!({"name": "Margherita", "category": "Pizza", "price": {"amount": 950, "currency": "eur"}, "sku": "PIZ-1", "tags": ["Vegetarian"]});
    let products = format!("/merchants/{id}/products");
    for (who, status) in [
        (&rival, StatusCode::NOT_FOUND),
        (&customer, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            status_of(app.as_user(who, Method::POST, &products).json(&margherita)).await,
            status
        );
    }
    assert_eq!(
        status_of(
            app.as_user(
                &owner,
                Method::POST,
                &format!("/merchants/{absent}/products")
            )
            .json(&margherita)
        )
        .await,
        StatusCode::NOT_FOUND
    );
    let bad_price = app.as_user(&owner, Method::POST, &products)
        .json(&json!({"name": "Free lunch", "category": "Pizza", "price": {"amount": -1, "currency": "EUR"}}))
        .send().await.unwrap();
    assert_eq!(bad_price.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(bad_price).await["errors"][0]["field"], "price");
    let created = app
        .as_user(&owner, Method::POST, &products)
        .json(&margherita)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let pizza: Value = created.json().await.unwrap();
    assert_eq!(pizza["price"], json!({"amount": 950, "currency": "EUR"}));
    assert_eq!(pizza["tags"], json!(["vegetarian"]));
    let duplicate = app
        .as_user(&owner, Method::POST, &products)
        .json(&margherita)
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    assert!(
        problem(duplicate).await["type"]
            .as_str()
            .unwrap()
            .ends_with("sku-taken")
    );
    for (name, active) in [
        ("Marinara", true),
        ("Calzone", true),
        ("Secret menu", false),
    ] {
        let body = json!({"name": name, "category": "Pizza", "price": {"amount": 1000, "currency": "EUR"}, "active": active});
        assert_eq!(
            status_of(app.as_user(&owner, Method::POST, &products).json(&body)).await,
            StatusCode::CREATED
        );
    }

    // The public sees active products, page by page; the staff see all.
    let first: Value = json_of(app.api(Method::GET, &format!("{products}?limit=2"))).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value =
        json_of(app.api(Method::GET, &format!("{products}?limit=2&cursor={cursor}"))).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    let staff_view: Value = json_of(app.as_user(&owner, Method::GET, &products)).await;
    assert_eq!(staff_view["items"].as_array().unwrap().len(), 4);
    assert_eq!(staff_view["items"][0]["name"], "Secret menu");

    // The menu's sections: active products only.
    let categories = json_of(app.api(Method::GET, &format!("/merchants/{id}/categories"))).await;
    assert_eq!(categories, json!([{"name": "Pizza", "products": 3}]));
    let absent_menu = app
        .api(Method::GET, &format!("/merchants/{absent}/categories"))
        .send()
        .await
        .unwrap();
    assert_eq!(absent_menu.status(), StatusCode::NOT_FOUND);

    // Change and delete.
    let pizza_path = format!("/products/{}", pizza["id"].as_str().unwrap());
    let repriced = json!({"price": {"amount": 1050, "currency": "EUR"}, "sku": null});
    for (who, status) in [
        (&rival, StatusCode::NOT_FOUND),
        (&customer, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            status_of(app.as_user(who, Method::PATCH, &pizza_path).json(&repriced)).await,
            status
        );
    }
    let changed: Value = json_of(
        app.as_user(&owner, Method::PATCH, &pizza_path)
            .json(&repriced),
    )
    .await;
    assert_eq!(changed["price"]["amount"], 1050);
    assert!(changed["sku"].is_null());
    let unknown_field = app
        .as_user(&owner, Method::PATCH, &pizza_path)
        .json(&json!({"status": "cheap"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for (who, status) in [
        (&rival, StatusCode::NOT_FOUND),
        (&customer, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            status_of(app.as_user(who, Method::DELETE, &pizza_path)).await,
            status
        );
    }
    assert_eq!(
        status_of(app.as_user(&owner, Method::DELETE, &pizza_path)).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status_of(app.api(Method::GET, &pizza_path)).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(app.as_user(&owner, Method::DELETE, &pizza_path)).await,
        StatusCode::NOT_FOUND
    );

    // Every change was announced, in the same transaction as the change.
    assert_eq!(events_of_type(&app, "merchant.created").await, 1);
    assert_eq!(events_of_type(&app, "merchant.updated").await, 1);
    assert_eq!(events_of_type(&app, "product.created").await, 4);
    assert_eq!(events_of_type(&app, "product.updated").await, 1);
    assert_eq!(events_of_type(&app, "product.deleted").await, 1);
    app.stop().await;
}

async fn merchants_near_a_point_nearest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.signup("merchant").await;
    // Around Alexanderplatz, Berlin: about 0.5 km, 2 km and 30 km away.
    create_merchant(&app, &owner, "Near", 52.5245, 13.4100).await;
    create_merchant(&app, &owner, "Nearer", 52.5220, 13.4130).await;
    create_merchant(&app, &owner, "Far", 52.7, 13.1).await;
    create_merchant(&app, &owner, "Middle", 52.5300, 13.3800).await;

    let near: Value =
        json_of(app.api(Method::GET, "/merchants?near=52.5219,13.4132&radius_km=5")).await;
    let names: Vec<&str> = near["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Nearer", "Near", "Middle"]);
    let distances: Vec<f64> = near["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["distance_km"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances[2] < 5.0);

    let all: Value = json_of(app.api(Method::GET, "/merchants")).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    assert_eq!(all["items"][0]["name"], "Middle", "newest first");

    for query in [
        "near=52.5",
        "near=abc,13",
        "near=95,13",
        "near=5e1,1e1",
        "near=52.5,13.4&radius_km=500",
        "radius_km=3",
    ] {
        let response = app
            .api(Method::GET, &format!("/merchants?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
        problem(response).await;
    }
    app.stop().await;
}

backend_test!(catalog_writes, staff_write_and_everyone_reads);
backend_test!(catalog_near, merchants_near_a_point_nearest_first);
