//! Control characters in every text field of every route: refused with a 422 that names
//! the field, and nothing is written.

use ordo_e2e::fixtures::{GOOD_CARD, card, order_request, pickup, shop};
use ordo_e2e::{PASSWORD, Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WEBHOOK_SECRET: &str = "whsec-input-journey-0123456789";

/// NUL (refused by PostgreSQL in text), and a terminal escape with a bell.
const CONTROLS: [&str; 2] = ["\u{0}", "\u{1b}[2J\u{7}"];

/// Every table a refused request could write to, with its service.
const TABLES: [(&str, &str); 17] = [
    ("identity", "users"),
    ("identity", "refresh_tokens"),
    ("identity", "addresses"),
    ("identity", "bus_outbox"),
    ("catalog", "merchants"),
    ("catalog", "merchant_staff"),
    ("catalog", "products"),
    ("catalog", "bus_outbox"),
    ("orders", "orders"),
    ("orders", "order_history"),
    ("orders", "idempotency_keys"),
    ("orders", "bus_outbox"),
    ("payments", "payment_methods"),
    ("payments", "payments"),
    ("payments", "refunds"),
    ("payments", "provider_events"),
    ("payments", "bus_outbox"),
];

#[derive(Clone, Copy)]
enum Who {
    Anonymous,
    Customer,
    Owner,
    Admin,
}

/// Where the text goes: a member of the JSON body (a JSON pointer), or a query parameter.
enum Target {
    Body(Value, &'static str),
    Query(&'static str, &'static str),
}

struct Case {
    who: Who,
    method: Method,
    path: String,
    target: Target,
    /// The field the problem must name.
    field: &'static str,
}

/// `value` with `control` put in its middle, so that only the control character is wrong.
fn spoiled(value: &str, control: &str) -> String {
    let middle = value
        .char_indices()
        .nth(value.chars().count() / 2)
        .map_or(value.len(), |(i, _)| i);
    format!("{}{control}{}", &value[..middle], &value[middle..])
}

fn signature(body: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    ordo_kernel::signature::sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes(), now)
}

/// What the platform holds: the rows of every table a request could write, and what the
/// users see of their own things.
async fn snapshot(app: &TestApp, views: &[(&Session, String)]) -> Vec<Value> {
    let mut seen = Vec::new();
    for (service, table) in TABLES {
        seen.push(json!([service, table, app.count(service, table).await]));
    }
    for (who, path) in views {
        seen.push(json_of(app.as_user(who, Method::GET, path)).await);
    }
    seen
}

async fn control_characters_are_refused_everywhere(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.rate_limit.enabled = false;
        config.payments_webhook_secret = Some(ordo_kernel::Secret::new(WEBHOOK_SECRET.into()));
    })
    .await;
    let shop = shop(&app, 10).await;
    let (merchant, product) = (&shop.merchant_id, &shop.pizza.0);
    let customer = app.signup("customer").await;
    let admin = app.admin().await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let address_body = json!({"label": "home", "line1": "Alexanderplatz 1", "line2": "3rd floor",
        "city": "Berlin", "postal_code": "10178", "country": "DE", "lat": 52.52, "lon": 13.41});
    let address = json_of(
        app.as_user(&customer, Method::POST, "/me/addresses")
            .json(&address_body),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let order = json_of(order_request(
        &app,
        &customer,
        "input-1",
        &pickup(json!([{"product_id": product, "quantity": 1}]), &method),
    ))
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.eventually("the order is paid", || async {
        json_of(app.as_user(&customer, Method::GET, &format!("/orders/{order}/status"))).await
            ["status"]
            == "paid"
    })
    .await;

    let register = json!({"email": "new@example.com", "password": PASSWORD, "name": "New User"});
    let login = json!({"email": customer.email, "password": PASSWORD});
    let token = json!({"refresh_token": customer.refresh_token});
    let profile = json!({"name": "Ada Lovelace", "phone": "+4915112345678"});
    let new_card =
        json!({"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"});
    let checkout = json!({"items": [{"product_id": product, "quantity": 1}], "fulfilment": "delivery",
        "address": {"line1": "Alexanderplatz 1", "line2": "3rd floor", "city": "Berlin",
            "postal_code": "10178", "country": "DE", "lat": 52.52, "lon": 13.41},
        "payment_method_id": method, "notes": "ring twice"});
    let shop_body = json!({"name": "Trattoria Due", "kind": "restaurant", "address": "Via Roma 2",
        "lat": 52.5, "lon": 13.4, "opening_hours": [{"day": "mon", "open": "11:00", "close": "22:00"}]});
    let product_body = json!({"name": "Marinara", "description": "Tomato, garlic, oregano",
        "category": "Pizza", "price": {"amount": 800, "currency": "EUR"}, "sku": "PIZ-2",
        "tags": ["vegan"]});
    let webhook = json!({"id": "evt_1", "type": "charge.refunded", "data": {"reference": "ref_1"}});
    let address_fields = vec![
        ("/label", "label"),
        ("/line1", "line1"),
        ("/line2", "line2"),
        ("/city", "city"),
        ("/postal_code", "postal_code"),
        ("/country", "country"),
    ];
    let merchant_fields = vec![
        ("/name", "name"),
        ("/kind", "kind"),
        ("/address", "address"),
        ("/opening_hours/0/day", "opening_hours[0].day"),
        ("/opening_hours/0/open", "opening_hours[0].open"),
        ("/opening_hours/0/close", "opening_hours[0].close"),
    ];
    let product_fields = vec![
        ("/name", "name"),
        ("/description", "description"),
        ("/category", "category"),
        ("/price/currency", "price"),
        ("/sku", "sku"),
        ("/tags/0", "tags[0]"),
    ];

    // Each route with a body: who calls it, a valid body, and its text fields (where in
    // the body, and the name the problem gives).
    let bodies = [
        (
            Who::Anonymous,
            Method::POST,
            "/auth/register".to_owned(),
            register,
            vec![
                ("/email", "email"),
                ("/password", "password"),
                ("/name", "name"),
            ],
        ),
        (
            Who::Anonymous,
            Method::POST,
            "/auth/login".to_owned(),
            login,
            vec![("/email", "email"), ("/password", "password")],
        ),
        (
            Who::Anonymous,
            Method::POST,
            "/auth/refresh".to_owned(),
            token.clone(),
            vec![("/refresh_token", "refresh_token")],
        ),
        (
            Who::Customer,
            Method::POST,
            "/auth/logout".to_owned(),
            token,
            vec![("/refresh_token", "refresh_token")],
        ),
        (
            Who::Customer,
            Method::PATCH,
            "/me".to_owned(),
            profile,
            vec![("/name", "name"), ("/phone", "phone")],
        ),
        (
            Who::Customer,
            Method::POST,
            "/me/addresses".to_owned(),
            address_body.clone(),
            address_fields.clone(),
        ),
        (
            Who::Customer,
            Method::PATCH,
            format!("/me/addresses/{address}"),
            address_body,
            address_fields,
        ),
        (
            Who::Customer,
            Method::POST,
            "/me/payment-methods".to_owned(),
            new_card,
            vec![("/card_number", "card_number"), ("/cvc", "cvc")],
        ),
        (
            Who::Customer,
            Method::POST,
            "/orders".to_owned(),
            checkout,
            vec![
                ("/fulfilment", "fulfilment"),
                ("/notes", "notes"),
                ("/address/line1", "address.line1"),
                ("/address/line2", "address.line2"),
                ("/address/city", "address.city"),
                ("/address/postal_code", "address.postal_code"),
                ("/address/country", "address.country"),
            ],
        ),
        (
            Who::Owner,
            Method::POST,
            format!("/orders/{order}/reject"),
            json!({"reason": "sold out"}),
            vec![("/reason", "reason")],
        ),
        (
            Who::Owner,
            Method::POST,
            "/merchants".to_owned(),
            shop_body.clone(),
            merchant_fields.clone(),
        ),
        (
            Who::Owner,
            Method::PATCH,
            format!("/merchants/{merchant}"),
            shop_body,
            merchant_fields,
        ),
        (
            Who::Owner,
            Method::POST,
            format!("/merchants/{merchant}/products"),
            product_body.clone(),
            product_fields.clone(),
        ),
        (
            Who::Owner,
            Method::PATCH,
            format!("/products/{product}"),
            product_body,
            product_fields,
        ),
        (
            Who::Anonymous,
            Method::POST,
            "/webhooks/payments".to_owned(),
            webhook,
            vec![
                ("/id", "id"),
                ("/type", "type"),
                ("/data/reference", "data.reference"),
            ],
        ),
    ];
    // Each route with a text query parameter: who calls it, the parameter, a valid value.
    let queries = [
        (
            Who::Owner,
            format!("/merchants/{merchant}/orders"),
            "status",
            "paid",
        ),
        (Who::Anonymous, "/merchants".to_owned(), "near", "52.5,13.4"),
        (
            Who::Admin,
            "/admin/dead-letters".to_owned(),
            "consumer",
            "orders",
        ),
    ];
    let mut cases = Vec::new();
    for (who, method, path, base, fields) in bodies {
        for (pointer, field) in fields {
            cases.push(Case {
                who,
                method: method.clone(),
                path: path.clone(),
                target: Target::Body(base.clone(), pointer),
                field,
            });
        }
    }
    for (who, path, name, value) in queries {
        cases.push(Case {
            who,
            method: Method::GET,
            path,
            target: Target::Query(name, value),
            field: name,
        });
    }

    let views = [
        (&customer, "/me".to_owned()),
        (&customer, "/me/addresses".to_owned()),
        (&customer, "/me/payment-methods".to_owned()),
        (&customer, format!("/orders/{order}/history")),
        (&shop.owner, format!("/merchants/{merchant}")),
        (&shop.owner, format!("/merchants/{merchant}/products")),
    ];
    let before = snapshot(&app, &views).await;
    for case in &cases {
        for control in CONTROLS {
            let mut request = app.api(case.method.clone(), &case.path);
            request = match case.who {
                Who::Anonymous => request,
                Who::Customer => request.bearer_auth(&customer.access_token),
                Who::Owner => request.bearer_auth(&shop.owner.access_token),
                Who::Admin => request.bearer_auth(&admin.access_token),
            };
            let sent = match &case.target {
                Target::Body(base, pointer) => {
                    let mut sent = base.clone();
                    let member = sent.pointer_mut(pointer).unwrap();
                    *member = Value::from(spoiled(member.as_str().unwrap(), control));
                    let text = sent.to_string();
                    request = request
                        .header("content-type", "application/json")
                        .header("idempotency-key", ordo_kernel::new_id().to_string())
                        .header("ordo-signature", signature(&text))
                        .body(text.clone());
                    text
                }
                Target::Query(name, value) => {
                    let value = spoiled(value, control);
                    request = request.query(&[(name, &value)]);
                    value
                }
            };
            let what = format!("{} {} {} = {sent:?}", case.method, case.path, case.field);
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}"
            );
            let refused = problem(response).await;
            let fields: Vec<&str> = refused["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert_eq!(fields, [case.field], "{what}: {refused}");
            assert_eq!(snapshot(&app, &views).await, before, "{what} wrote nothing");
        }
    }

    // Long free text keeps its line breaks and tabs.
    let noted = json_of(order_request(
        &app,
        &customer,
        "input-2",
        &json!({"items": [{"product_id": product, "quantity": 1}], "fulfilment": "pickup",
            "payment_method_id": method, "notes": "ring twice\r\n\tthird floor"}),
    ))
    .await;
    assert_eq!(noted["notes"], "ring twice\n\tthird floor");
    app.stop().await;
}
backend_test!(
    control_characters,
    control_characters_are_refused_everywhere
);
