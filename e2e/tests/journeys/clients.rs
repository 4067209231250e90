//! The clients services call one another through, in process and over HTTP, give the same
//! answers; the internal routes take only a service token for their own service; a callee
//! that is down or silent is `Unavailable` within the call's deadline, never a hang.

use ordo_bus::{Bus, Echoes};
use ordo_contracts::ClientError;
use ordo_contracts::cart::CartClient;
use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::delivery::DeliveryClient;
use ordo_contracts::identity::IdentityClient;
use ordo_contracts::inventory::{InventoryClient, Reservation, ReservationLine};
use ordo_contracts::notifications::NotificationsClient;
use ordo_contracts::orders::OrdersClient;
use ordo_contracts::payments::PaymentsClient;
use ordo_e2e::fixtures::{GOOD_CARD, card, courier_at, order_request, shop, status};
use ordo_e2e::{TestApp, json_of, problem};
use ordo_http::service_auth::{ServiceClaims, ServiceSigner, ServiceTokens, audience};
use ordo_identity::Keyring;
use ordo_kernel::trace::TraceContext;
use ordo_remote::{RemoteSettings, Remotes, ServiceClient};
use ordo_testkit::{Backend, TcpProxy, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The platform's signing keys, as another process of it reads them from the key file.
fn keyring(app: &TestApp) -> Arc<Keyring> {
    let retain = Duration::from_secs(3600);
    Arc::new(Keyring::open(&app.config().keys_file(), retain).expect("the key file"))
}

fn remotes(app: &TestApp, settings: RemoteSettings, echoes: Echoes) -> Remotes {
    let issuer = app.config().identity.issuer.clone();
    let tokens = ServiceTokens::new(keyring(app), &issuer, "orders");
    Remotes::new(Arc::new(tokens), settings, echoes)
}

/// A client of `callee`'s internal routes on the platform under test.
fn over_http(app: &TestApp, callee: &'static str) -> ServiceClient {
    remotes(app, RemoteSettings::default(), Echoes::default()).to(callee, vec![app.url("")])
}

/// Both implementations of one client: in process, and over HTTP.
fn both<T: ?Sized>(local: Arc<T>, remote: Arc<T>) -> [(&'static str, Arc<T>); 2] {
    [("in process", local), ("over HTTP", remote)]
}

async fn both_implementations_answer_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let home = json!({"label": "home", "line1": "Kastanienallee 77", "city": "Berlin",
        "postal_code": "10435", "country": "DE", "lat": 52.51, "lon": 13.41});
    let address = json_of(
        app.as_user(&customer, Method::POST, "/me/addresses")
            .json(&home),
    )
    .await;
    let address_id: Uuid = address["id"].as_str().unwrap().parse().unwrap();
    let added = app
        .as_user(&customer, Method::POST, "/cart/items")
        .json(&json!({"product_id": shop.soup.0, "quantity": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::OK);
    let _courier = courier_at(&app, (52.501, 13.400)).await;
    let body = json!({
        "items": [{"product_id": shop.pizza.0, "quantity": 1}],
        "fulfilment": "delivery", "address_id": address_id, "payment_method_id": method,
    });
    let order = json_of(order_request(&app, &customer, "c1", &body)).await;
    let order_id: Uuid = order["id"].as_str().unwrap().parse().unwrap();
    app.eventually("the order is paid", || async {
        status(&app, &customer, &order_id.to_string()).await == "paid"
    })
    .await;
    json_of(app.as_user(
        &shop.owner,
        Method::POST,
        &format!("/orders/{order_id}/accept"),
    ))
    .await;
    let delivery = app.service::<ordo_delivery::Delivery>();
    app.eventually("the delivery is offered", || async {
        DeliveryClient::tracking(&*delivery, order_id)
            .await
            .unwrap()
            .is_some_and(|t| t.status == "offered")
    })
    .await;
    let (pizza, merchant): (Uuid, Uuid) = (
        shop.pizza.0.parse().unwrap(),
        shop.merchant_id.parse().unwrap(),
    );
    let method: Uuid = method.parse().unwrap();
    let (nobody, stranger) = (Uuid::now_v7(), app.signup("customer").await);

    let identity: Arc<dyn IdentityClient> = app.identity();
    let remote = ordo_identity::remote_client(over_http(&app, "identity"));
    let mut answers = Vec::new();
    for (how, client) in both(identity, remote) {
        answers.push((
            client.contact(customer.id).await.unwrap(),
            client.contact(nobody).await.unwrap(),
            client.address(customer.id, address_id).await.unwrap(),
            client.address(stranger.id, address_id).await.unwrap(),
            client.administrators().await.unwrap(),
            client.find_users(&customer.email, 10).await.unwrap(),
        ));
        let last = answers.last().unwrap();
        assert!(last.0.is_some() && last.1.is_none(), "{how}");
        assert!(
            last.2.is_some() && last.3.is_none(),
            "{how}: not the stranger's"
        );
        assert_eq!(last.5, [customer.id], "{how}");
    }
    assert_eq!(answers[0], answers[1]);

    let catalog: Arc<dyn CatalogClient> = app.service::<ordo_catalog::Catalog>();
    let remote = ordo_catalog::remote_client(over_http(&app, "catalog"));
    let mut answers = Vec::new();
    for (how, client) in both(catalog, remote) {
        answers.push((
            client.products(&[pizza, nobody]).await.unwrap(),
            client.merchant(merchant).await.unwrap(),
            client.merchant(nobody).await.unwrap(),
            client.find_merchants("tratt", 5).await.unwrap(),
        ));
        let last = answers.last().unwrap();
        assert_eq!(last.0.len(), 1, "{how}: the unknown one is absent");
        assert!(last.1.is_some() && last.2.is_none(), "{how}");
        assert!(last.3.contains(&merchant), "{how}");
    }
    assert_eq!(answers[0], answers[1]);

    let cart: Arc<dyn CartClient> = app.service::<ordo_cart::Cart>();
    let remote = ordo_cart::remote_client(over_http(&app, "cart"));
    let mut answers = Vec::new();
    for (how, client) in both(cart, remote) {
        let lines = client.lines(customer.id).await.unwrap();
        assert_eq!(lines.len(), 1, "{how}");
        answers.push(lines);
    }
    assert_eq!(answers[0], answers[1]);

    let payments: Arc<dyn PaymentsClient> = app.service::<ordo_payments::Payments>();
    let remote = ordo_payments::remote_client(over_http(&app, "payments"));
    let mut answers = Vec::new();
    for (how, client) in both(payments, remote) {
        let owns = (
            client.owns_method(customer.id, method).await.unwrap(),
            client.owns_method(stranger.id, method).await.unwrap(),
        );
        assert_eq!(owns, (true, false), "{how}");
        answers.push(client.timeline(order_id).await.unwrap());
    }
    assert!(!answers[0].is_empty());
    assert_eq!(answers[0], answers[1]);

    let inventory: Arc<dyn InventoryClient> = app.service::<ordo_inventory::Inventory>();
    let remote = ordo_inventory::remote_client(over_http(&app, "inventory"));
    let held = Uuid::now_v7();
    let trace = TraceContext::new_root();
    let one = [ReservationLine {
        product_id: pizza,
        quantity: 1,
    }];
    let too_many = [ReservationLine {
        product_id: pizza,
        quantity: 1000,
    }];
    let none = [ReservationLine {
        product_id: pizza,
        quantity: 0,
    }];
    let mut answers = Vec::new();
    for (how, client) in both(inventory, remote) {
        // Held by whichever asks first; the same answer to the second, nothing more held.
        let again = client.reserve(held, &one, Some(trace)).await.unwrap();
        assert_eq!(again, Reservation::Held, "{how}");
        let short = client
            .reserve(Uuid::now_v7(), &too_many, None)
            .await
            .unwrap();
        assert!(matches!(short, Reservation::OutOfStock(_)), "{how}");
        let refused = client.reserve(Uuid::now_v7(), &none, None).await;
        assert!(matches!(refused, Err(ClientError::Invalid(_))), "{how}");
        answers.push((short, client.timeline(held).await.unwrap()));
    }
    let held_in = &answers[0].1[0];
    assert_eq!(
        held_in.trace_id.as_deref(),
        Some(trace.trace_id_hex().as_str()),
        "held in the caller's trace"
    );
    assert_eq!(answers[0], answers[1]);

    let delivery: Arc<dyn DeliveryClient> = delivery;
    let remote = ordo_delivery::remote_client(over_http(&app, "delivery"));
    let mut answers = Vec::new();
    for (how, client) in both(delivery, remote) {
        let tracking = client.tracking(order_id).await.unwrap();
        assert!(tracking.is_some(), "{how}");
        let untracked = client.tracking(nobody).await.unwrap();
        assert!(untracked.is_none(), "{how}");
        answers.push((tracking, client.timeline(order_id).await.unwrap()));
    }
    assert_eq!(answers[0], answers[1]);

    let notifications: Arc<dyn NotificationsClient> =
        app.service::<ordo_notifications::Notifications>();
    let remote = ordo_notifications::remote_client(over_http(&app, "notifications"));
    let mut answers = Vec::new();
    for (how, client) in both(notifications, remote) {
        let told = client.timeline(order_id).await.unwrap();
        assert!(!told.is_empty(), "{how}");
        answers.push(told);
    }
    assert_eq!(answers[0], answers[1]);

    let orders: Arc<dyn OrdersClient> = app.service::<ordo_orders::Orders>();
    let remote = ordo_orders::remote_client(over_http(&app, "orders"));
    let mut answers = Vec::new();
    for (how, client) in both(orders, remote) {
        let purchase = client.purchase(order_id).await.unwrap();
        let purchase = purchase.unwrap_or_else(|| panic!("{how}: the order"));
        assert_eq!(
            (
                purchase.customer_id,
                purchase.merchant_id,
                purchase.completed
            ),
            (customer.id, merchant, false),
            "{how}: accepted, not completed"
        );
        assert_eq!(purchase.product_ids, [pizza], "{how}");
        assert!(client.purchase(nobody).await.unwrap().is_none(), "{how}");
        answers.push(purchase);
    }
    assert_eq!(answers[0], answers[1]);
    app.stop().await;
}

/// Signs like the platform's keys, but with claims the test chooses.
struct Forger(Arc<Keyring>);

impl Forger {
    fn token(&self, callee: &str, exp_in: i64) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = ServiceClaims {
            iss: "ordo".into(),
            aud: audience(callee),
            sub: "orders".into(),
            exp: now + exp_in,
            nbf: now - 600,
            iat: now - 600,
            typ: "service".into(),
        };
        self.0.sign_service(&claims).unwrap()
    }
}

async fn internal_routes_take_only_service_tokens_for_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.url(&format!(
        "/internal/v1/catalog/merchants/{}",
        Uuid::now_v7()
    ));
    let client = reqwest::Client::new();
    let call = |token: Option<String>| {
        let mut request = client.get(&path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap() }
    };
    let platform = Forger(keyring(&app));
    let good = call(Some(platform.token("catalog", 300))).await;
    assert_eq!(
        good.status(),
        StatusCode::OK,
        "a service token for the catalogue"
    );
    assert_eq!(good.json::<serde_json::Value>().await.unwrap(), json!(null));

    let elsewhere = ordo_testkit::temp_dir();
    let other_keys = Keyring::open(&elsewhere.path().join("keys.json"), Duration::ZERO).unwrap();
    let forged = Forger(Arc::new(other_keys)).token("catalog", 300);
    let user = app.signup("customer").await;
    for (why, token) in [
        ("no token", None),
        ("another service's", Some(platform.token("inventory", 300))),
        ("expired", Some(platform.token("catalog", -3600))),
        ("signed by other keys", Some(forged)),
        ("a user's access token", Some(user.access_token.clone())),
    ] {
        let refused = call(token).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{why}");
        problem(refused).await;
    }
    // A user's token is for the public API only, and a service token is not one.
    let as_service = app
        .api(Method::GET, "/me")
        .bearer_auth(platform.token("catalog", 300))
        .send()
        .await
        .unwrap();
    assert_eq!(as_service.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn a_callee_down_or_silent_is_unavailable_within_the_deadline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let settings = RemoteSettings {
        deadline: Duration::from_millis(800),
        attempts: 3,
        breaker_failures: 2,
        breaker_cooldown: Duration::from_secs(3600),
    };
    // Nothing listens on a port that was just given back.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    // This one accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let quiet = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            open.push(connection);
        }
    });
    let remotes = remotes(&app, settings, Echoes::default());
    for (what, instances) in [("down", vec![down.clone()]), ("silent", vec![quiet])] {
        let catalog = ordo_catalog::remote_client(remotes.to("catalog", instances));
        let answer = tokio::time::timeout(Duration::from_secs(30), catalog.merchant(Uuid::nil()))
            .await
            .unwrap_or_else(|_| panic!("a {what} callee must not hang its caller"));
        assert!(
            matches!(
                answer,
                Err(ClientError::Unavailable {
                    service: "catalog",
                    ..
                })
            ),
            "{what}: {answer:?}"
        );
    }
    // One instance down of two: the call goes to the other.
    let catalog = ordo_catalog::remote_client(remotes.to("catalog", vec![down, app.url("")]));
    for _ in 0..4 {
        assert_eq!(catalog.merchant(Uuid::nil()).await.unwrap(), None);
    }
    // A breaker opened by failures refuses at once, without asking the callee.
    let catalog = ordo_catalog::remote_client(remotes.to(
        "catalog",
        vec![format!("http://{}", {
            let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            gone.local_addr().unwrap()
        })],
    ));
    for _ in 0..2 {
        assert!(catalog.merchant(Uuid::nil()).await.is_err());
    }
    let paused = catalog.merchant(Uuid::nil()).await;
    assert!(
        matches!(&paused, Err(ClientError::Unavailable { detail, .. }) if detail.contains("paused")),
        "{paused:?}"
    );
    held.abort();
    app.stop().await;
}

backend_test!(contract, both_implementations_answer_alike);
backend_test!(
    service_tokens,
    internal_routes_take_only_service_tokens_for_them
);
backend_test!(
    callee_down,
    a_callee_down_or_silent_is_unavailable_within_the_deadline
);

/// The catalogue's client in another process keeps what it was answered of products and
/// merchants (it answers with the catalogue cut off), and forgets a product the moment the
/// catalogue says it changed: it asks again, and gets the new price.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_answers_are_kept_until_they_change() {
    let Some(backend) = ordo_testkit::postgres("catalogue_answers_kept") else {
        return;
    };
    if ordo_testkit::nats("catalogue_answers_kept").is_none() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let (pizza, merchant): (Uuid, Uuid) = (
        shop.pizza.0.parse().unwrap(),
        shop.merchant_id.parse().unwrap(),
    );
    let proxy = TcpProxy::start(app.address.to_string()).await;
    let settings = RemoteSettings {
        attempts: 1,
        ..RemoteSettings::default()
    };
    // The bus of the client's process: only its wake-ups, through the platform's broker.
    let bus = Bus::new(app.config().bus.options(app.config().bus_url.as_ref()));
    let echoes = bus.echoes();
    let catalog = ordo_catalog::remote_client(
        remotes(&app, settings, echoes.clone())
            .to("catalog", vec![format!("http://{}", proxy.addr)]),
    );
    // Registered after the client's own listener: called once the client has forgotten.
    let changed = Arc::new(tokio::sync::Notify::new());
    let told = changed.clone();
    echoes.listen(
        ordo_catalog::CHANGED,
        Arc::new(move |id| {
            if id == pizza {
                told.notify_one();
            }
        }),
    );
    let hearing = bus.start().await.expect("the client's bus starts");
    tokio::time::timeout(Duration::from_secs(60), echoes.until_hearing())
        .await
        .expect("the client hears the catalogue's changes");

    let price = |products: Vec<ordo_contracts::catalog::ProductSnapshot>| products[0].price.amount;
    assert_eq!(
        price(catalog.products(&[pizza]).await.unwrap()),
        shop.pizza.1
    );
    assert!(catalog.merchant(merchant).await.unwrap().is_some());
    proxy.cut();
    assert_eq!(
        price(catalog.products(&[pizza]).await.unwrap()),
        shop.pizza.1,
        "kept: no call"
    );
    assert!(catalog.merchant(merchant).await.unwrap().is_some());

    let new_price = shop.pizza.1 + 100;
    json_of(
        app.as_user(&shop.owner, Method::PATCH, &format!("/products/{pizza}"))
            .json(&json!({"price": {"amount": new_price, "currency": "EUR"}})),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(60), changed.notified())
        .await
        .expect("the catalogue tells of the change");
    let asked = catalog.products(&[pizza]).await;
    assert!(
        matches!(asked, Err(ClientError::Unavailable { .. })),
        "forgotten: asked the catalogue, which is cut off: {asked:?}"
    );
    assert!(
        catalog.merchant(merchant).await.unwrap().is_some(),
        "its merchant did not change: still kept"
    );
    proxy.restore();
    assert_eq!(price(catalog.products(&[pizza]).await.unwrap()), new_price);
    hearing.stop(Duration::from_secs(10)).await;
    app.stop().await;
}
