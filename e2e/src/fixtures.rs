//! A small world for order journeys: a merchant with two products in stock, customers
//! with cards, checkout requests, couriers online; and what people see of it.

use crate::{Session, TestApp, json_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct Shop {
    pub owner: Session,
    pub merchant_id: String,
    /// (product id, price in cents)
    pub pizza: (String, i64),
    pub soup: (String, i64),
}

pub async fn shop(app: &TestApp, stock: i64) -> Shop {
    let owner = app.signup("merchant").await;
    let merchant = json_of(app.as_user(&owner, Method::POST, "/merchants").json(&json!({
        "name": "Trattoria", "kind": "restaurant", "address": "Via Roma 1", "lat": 52.5, "lon": 13.4
    })))
    .await;
    let merchant_id = merchant["id"].as_str().unwrap().to_owned();
    let mut products = Vec::new();
    for (name, amount) in [("Margherita", 950), ("Minestrone", 600)] {
        let product = json_of(
            app.as_user(&owner, Method::POST, &format!("/merchants/{merchant_id}/products"))
                .json(&json!({"name": name, "category": "Menu", "price": {"amount": amount, "currency": "EUR"}})),
        )
        .await;
        let id = product["id"].as_str().unwrap().to_owned();
        let set = app
            .as_user(&owner, Method::PUT, &format!("/products/{id}/stock"))
            .json(&json!({"on_hand": stock}))
            .send()
            .await
            .unwrap();
        assert_eq!(set.status(), StatusCode::OK);
        products.push((id, amount));
    }
    let soup = products.pop().unwrap();
    let pizza = products.pop().unwrap();
    Shop {
        owner,
        merchant_id,
        pizza,
        soup,
    }
}

/// A card saved by `customer` through the payments service; the sandbox's test numbers
/// decide what authorising it does.
pub async fn card(app: &TestApp, customer: &Session, number: &str) -> String {
    let saved = app
        .as_user(customer, Method::POST, "/me/payment-methods")
        .json(&json!({"card_number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::CREATED);
    saved.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub const GOOD_CARD: &str = "4242424242424242";
/// The sandbox declines this card's authorisations (`card_declined`).
pub const DECLINED_CARD: &str = "4000000000000002";

pub fn pickup(items: Value, method: &str) -> Value {
    json!({"items": items, "fulfilment": "pickup", "payment_method_id": method})
}

pub fn order_request(
    app: &TestApp,
    customer: &Session,
    key: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    app.as_user(customer, Method::POST, "/orders")
        .header("idempotency-key", key)
        .json(body)
}

pub async fn stock(app: &TestApp, shop: &Shop, product: &str) -> (i64, i64, i64) {
    let level = json_of(app.as_user(
        &shop.owner,
        Method::GET,
        &format!("/products/{product}/stock"),
    ))
    .await;
    let n = |k: &str| level[k].as_i64().unwrap();
    (n("on_hand"), n("reserved"), n("available"))
}

/// An order of `customer`'s for one pizza, picked up, paid; its id.
pub async fn paid_order(app: &TestApp, shop: &Shop, customer: &Session, key: &str) -> String {
    let method = card(app, customer, GOOD_CARD).await;
    let items = json!([{"product_id": shop.pizza.0, "quantity": 1}]);
    let order = json_of(order_request(app, customer, key, &pickup(items, &method))).await;
    let id = order["id"].as_str().unwrap().to_owned();
    app.eventually("the order is paid", || async {
        status(app, customer, &id).await == "paid"
    })
    .await;
    id
}

/// `customer` pays their declined order with a new card that authorises, and waits until
/// it is paid; the card's id.
pub async fn paid_with_another_card(app: &TestApp, customer: &Session, order: &str) -> String {
    let method = card(app, customer, GOOD_CARD).await;
    let retried = app
        .as_user(customer, Method::POST, &format!("/orders/{order}/payment"))
        .json(&json!({"payment_method_id": method}))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    app.eventually("the order is paid", || async {
        status(app, customer, order).await == "paid"
    })
    .await;
    method
}

/// The merchant takes a paid pickup order through to its customer: completed.
pub async fn complete(app: &TestApp, shop: &Shop, order: &str) {
    for action in ["accept", "ready", "picked-up"] {
        let path = format!("/orders/{order}/{action}");
        json_of(app.as_user(&shop.owner, Method::POST, &path)).await;
    }
}

/// An order's status as `who` sees it; empty when they may not see it.
pub async fn status(app: &TestApp, who: &Session, order: &str) -> String {
    json_of(app.as_user(who, Method::GET, &format!("/orders/{order}/status"))).await["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The kinds of the notifications `who` received (up to a hundred), sorted.
pub async fn notified(app: &TestApp, who: &Session) -> Vec<String> {
    let page = json_of(app.as_user(who, Method::GET, "/notifications?limit=100")).await;
    let mut kinds: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    kinds
}

/// A courier, signed up, online and reporting from `at`.
pub async fn courier_at(app: &TestApp, at: (f64, f64)) -> Session {
    let courier = app.signup("courier").await;
    let online = app
        .as_user(&courier, Method::PUT, "/courier/availability")
        .json(&json!({"online": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(online.status(), StatusCode::OK);
    let located = app
        .as_user(&courier, Method::PUT, "/courier/location")
        .json(&json!({"lat": at.0, "lon": at.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(located.status(), StatusCode::NO_CONTENT);
    courier
}
