//! Seed 003's order workflow, its fifteen steps, through HTTP: two merchants, three
//! couriers (one out of range), two customers. After each step the order's status and
//! exactly who was told what — every person's whole inbox — are checked.

use ordo_e2e::fixtures::{GOOD_CARD, Shop, card, courier_at, order_request, shop};
use ordo_e2e::{Session, TestApp, json_of};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Who has which notifications: (kind, order id), sorted.
type Inboxes = BTreeMap<&'static str, Vec<(String, String)>>;

async fn inbox(app: &TestApp, who: &Session) -> Vec<(String, String)> {
    let page = json_of(app.as_user(who, Method::GET, "/notifications?limit=100")).await;
    let mut told: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_owned(),
                n["order_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    told.sort();
    told
}

struct World {
    people: Vec<(&'static str, Session)>,
    expected: Inboxes,
}

impl World {
    fn tell(&mut self, who: &'static str, kind: &str, order: &str) {
        let inbox = self.expected.entry(who).or_default();
        inbox.push((kind.to_owned(), order.to_owned()));
        inbox.sort();
    }

    /// Waits until every inbox is exactly as expected, and the order's status is `status`.
    async fn step(&self, app: &TestApp, step: &str, order: &str, status: &str) {
        let customer = &self.people[0].1;
        app.eventually(step, || async {
            let status_now =
                json_of(app.as_user(customer, Method::GET, &format!("/orders/{order}/status")))
                    .await["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            if status_now != status {
                return false;
            }
            for (name, session) in &self.people {
                let expected = self.expected.get(name).cloned().unwrap_or_default();
                if inbox(app, session).await != expected {
                    return false;
                }
            }
            true
        })
        .await;
    }
}

async fn second_shop(app: &TestApp) -> (Session, String) {
    let owner = app.signup("merchant").await;
    let merchant = json_of(app.as_user(&owner, Method::POST, "/merchants").json(&json!({
        "name": "Imbiss", "kind": "restaurant", "address": "Torstrasse 9", "lat": 52.53, "lon": 13.45
    })))
    .await;
    let merchant_id = merchant["id"].as_str().unwrap();
    let product = json_of(
        app.as_user(&owner, Method::POST, &format!("/merchants/{merchant_id}/products"))
            .json(&json!({"name": "Currywurst", "category": "Menu", "price": {"amount": 450, "currency": "EUR"}})),
    )
    .await;
    let product = product["id"].as_str().unwrap().to_owned();
    let stocked = app
        .as_user(&owner, Method::PUT, &format!("/products/{product}/stock"))
        .json(&json!({"on_hand": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(stocked.status(), StatusCode::OK);
    (owner, product)
}

async fn delivery_order(app: &TestApp, customer: &Session, product: &str, key: &str) -> String {
    let method = card(app, customer, GOOD_CARD).await;
    let body = json!({
        "items": [{"product_id": product, "quantity": 1}],
        "fulfilment": "delivery",
        "address": {"line1": "Kastanienallee 1", "city": "Berlin", "postal_code": "10435",
                    "country": "DE", "lat": 52.51, "lon": 13.41},
        "payment_method_id": method,
    });
    json_of(order_request(app, customer, key, &body)).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn the_fifteen_steps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let Shop { owner, pizza, .. } = shop(&app, 10).await;
    let (other_owner, currywurst) = second_shop(&app).await;
    let near = courier_at(&app, (52.501, 13.400)).await;
    let further = courier_at(&app, (52.505, 13.400)).await;
    let far = courier_at(&app, (52.9, 13.4)).await;
    let customer = app.signup("customer").await;
    let other_customer = app.signup("customer").await;
    let mut world = World {
        people: vec![
            ("customer", customer.clone()),
            ("merchant", owner.clone()),
            ("near courier", near.clone()),
            ("further courier", further.clone()),
            ("far courier", far.clone()),
            ("other customer", other_customer.clone()),
            ("other merchant", other_owner.clone()),
        ],
        expected: Inboxes::new(),
    };

    // 1-2. The order is placed (MSG #1): restaurant and customer are told. Another order
    // elsewhere concerns only its own people.
    let order = delivery_order(&app, &customer, &pizza.0, "s1").await;
    let other = delivery_order(&app, &other_customer, &currywurst, "s2").await;
    world.tell("customer", "order_placed", &order);
    world.tell("merchant", "new_order", &order);
    world.tell("other customer", "order_placed", &other);
    world.tell("other merchant", "new_order", &other);
    world
        .step(&app, "steps 1-2: placed and told", &order, "paid")
        .await;

    // 3, 5. The restaurant accepts (MSG #2): the customer is told.
    let act = |who: &Session, action: &str| {
        app.as_user(who, Method::POST, &format!("/orders/{order}/{action}"))
    };
    assert_eq!(
        act(&owner, "accept").send().await.unwrap().status(),
        StatusCode::OK
    );
    world.tell("customer", "order_accepted", &order);
    // 4, 6. Delivery posts the area's offer (MSG #3): the couriers near are told, the one
    // out of range is not.
    world.tell("near courier", "delivery_offered", &order);
    world.tell("further courier", "delivery_offered", &order);
    world
        .step(&app, "steps 3-6: accepted and offered", &order, "accepted")
        .await;

    // 7-8. A courier accepts (MSG #4): customer and restaurant are told.
    let offers = json_of(app.as_user(&near, Method::GET, "/courier/offers")).await;
    let offer = offers["items"][0]["id"].as_str().unwrap().to_owned();
    let taken = app
        .as_user(
            &near,
            Method::POST,
            &format!("/courier/offers/{offer}/accept"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::OK);
    let delivery: Value = taken.json().await.unwrap();
    world.tell("customer", "courier_assigned", &order);
    world.tell("merchant", "courier_assigned", &order);
    world
        .step(&app, "steps 7-8: assigned and told", &order, "accepted")
        .await;

    // 9-10. Ready for pickup (MSG #5): the courier and the customer are told.
    assert_eq!(
        act(&owner, "ready").send().await.unwrap().status(),
        StatusCode::OK
    );
    world.tell("customer", "order_ready", &order);
    world.tell("near courier", "order_ready", &order);
    world
        .step(&app, "steps 9-10: ready and told", &order, "ready")
        .await;

    // 11-12. Picked up (MSG #6): the customer is told.
    assert_eq!(
        act(&owner, "picked-up").send().await.unwrap().status(),
        StatusCode::OK
    );
    world.tell("customer", "order_picked_up", &order);
    world
        .step(&app, "steps 11-12: picked up and told", &order, "picked_up")
        .await;

    // 13-15. Delivered (MSG #7): the order completes; restaurant and customer are told.
    let id = delivery["id"].as_str().unwrap();
    let delivered = || app.as_user(&near, Method::POST, &format!("/deliveries/{id}/delivered"));
    app.eventually("the courier's delivery is picked up", || async {
        json_of(app.as_user(&near, Method::GET, "/courier/deliveries")).await["items"][0]["status"]
            == "picked_up"
    })
    .await;
    assert_eq!(delivered().send().await.unwrap().status(), StatusCode::OK);
    world.tell("customer", "order_delivered", &order);
    world.tell("merchant", "order_delivered", &order);
    world
        .step(
            &app,
            "steps 13-15: delivered, completed, told",
            &order,
            "completed",
        )
        .await;
    app.stop().await;
}

backend_test!(seed_003, the_fifteen_steps);
