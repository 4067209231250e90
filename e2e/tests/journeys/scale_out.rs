//! Services in processes of their own (`ordo serve --service`): one platform runs only the
//! catalogue, another every other service and calls the catalogue over HTTP; both share
//! PostgreSQL, the broker and the signing keys. A checkout through the second is priced by
//! the first.

use ordo_e2e::fixtures::{GOOD_CARD, card, pickup, status};
use ordo_e2e::{EventStream, TestApp, json_of};
use ordo_testkit::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Every service of the registry, as the gateway routes to them.
const EVERY_SERVICE: [&str; 11] = [
    "identity",
    "catalog",
    "inventory",
    "cart",
    "payments",
    "delivery",
    "notifications",
    "orders",
    "reviews",
    "analytics",
    "search",
];

/// Every service but the catalogue: what the other process runs.
fn all_but_catalog() -> Vec<String> {
    EVERY_SERVICE
        .iter()
        .filter(|service| **service != "catalog")
        .map(|service| (*service).to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_priced_by_a_catalogue_in_another_process() {
    let Some(backend) = ordo_testkit::postgres("a_checkout_priced_by_a_catalogue_elsewhere") else {
        return;
    };
    if !matches!(backend, Backend::Postgres { .. }) || ordo_testkit::nats("scale-out").is_none() {
        return;
    }
    let catalog = TestApp::spawn_with(backend.clone(), |config| {
        config.run = vec!["catalog".into()];
    })
    .await;
    let keys = catalog.config().keys_file();
    let catalog_url = catalog.url("");
    let rest = TestApp::spawn_with(backend, |config| {
        config.run = all_but_catalog();
        config.identity.keys_file = Some(keys);
        config.services.entry("catalog".into()).or_default().urls = vec![catalog_url];
    })
    .await;

    // The catalogue's routes are the catalogue process's; a token identity issued in the
    // other process is good there, as the keys are the platform's.
    let owner = rest.signup("merchant").await;
    let merchant = json_of(catalog.as_user(&owner, Method::POST, "/merchants").json(&json!({
        "name": "Trattoria", "kind": "restaurant", "address": "Via Roma 1", "lat": 52.5, "lon": 13.4
    })))
    .await;
    let merchant_id = merchant["id"].as_str().unwrap();
    let pizza = json_of(
        catalog
            .as_user(
                &owner,
                Method::POST,
                &format!("/merchants/{merchant_id}/products"),
            )
            .json(&json!({"name": "Margherita", "category": "Menu",
                          "price": {"amount": 950, "currency": "EUR"}})),
    )
    .await;
    let pizza = pizza["id"].as_str().unwrap();
    let missing = rest
        .as_user(&owner, Method::GET, &format!("/merchants/{merchant_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.status(),
        StatusCode::NOT_FOUND,
        "not served where the catalogue does not run"
    );
    // Inventory asks the catalogue, over HTTP, whose product it is.
    let stocked = rest
        .as_user(&owner, Method::PUT, &format!("/products/{pizza}/stock"))
        .json(&json!({"on_hand": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(stocked.status(), StatusCode::OK);

    let customer = rest.signup("customer").await;
    let method = card(&rest, &customer, GOOD_CARD).await;
    let items = json!([{"product_id": pizza, "quantity": 2}]);
    let placed = rest
        .as_user(&customer, Method::POST, "/orders")
        .header("Idempotency-Key", "elsewhere-1")
        .json(&pickup(items, &method))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order = placed.json::<serde_json::Value>().await.unwrap();
    assert_eq!(order["total"]["amount"], 1900, "priced by the catalogue");
    let id = order["id"].as_str().unwrap().to_owned();
    rest.eventually("the order is paid", || async {
        status(&rest, &customer, &id).await == "paid"
    })
    .await;
    // The catalogue's events reach the search index in the other process, over the broker.
    rest.eventually("the product is found", || async {
        let found = json_of(rest.api(Method::GET, "/search?q=margherita")).await;
        found["hits"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
    })
    .await;
    rest.stop().await;
    catalog.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_missing_where_its_callees_run_refuses_to_start() {
    let Some(Backend::Postgres { url, schema_prefix }) =
        ordo_testkit::postgres("a_process_missing_where_its_callees_run_refuses_to_start")
    else {
        return;
    };
    let dir = ordo_testkit::temp_dir();
    let config = |run: &[&str]| ordo_app::Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(ordo_kernel::Secret::new(url.clone())),
        database_schema_prefix: schema_prefix.clone(),
        database_max_connections: 2,
        run: run.iter().map(|name| (*name).to_owned()).collect(),
        ..ordo_app::Config::default()
    };
    let refused = |run: &'static [&'static str]| {
        let config = config(run);
        async move {
            match ordo_app::Platform::open(config).await {
                Ok(_) => panic!("{run:?} started"),
                Err(error) => format!("{error:#}"),
            }
        }
    };
    let orders_alone = refused(&["orders"]).await;
    assert!(
        orders_alone.contains("ORDO_SERVICES__IDENTITY__URLS"),
        "{orders_alone}"
    );
    let unknown = refused(&["orders", "kitchen"]).await;
    assert!(unknown.contains("no service `kitchen`"), "{unknown}");
    // A service that calls nobody needs nobody's address.
    ordo_app::Platform::open(config(&["catalog"]))
        .await
        .expect("the catalogue alone starts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gateway_in_front_of_services_in_two_processes() {
    let Some(backend) = ordo_testkit::postgres("one_gateway_in_front_of_services") else {
        return;
    };
    if ordo_testkit::nats("one gateway in front of services").is_none() {
        return;
    }
    let catalog = TestApp::spawn_with(backend.clone(), |config| {
        config.run = vec!["catalog".into()];
    })
    .await;
    let keys = catalog.config().keys_file();
    let catalog_url = catalog.url("");
    let rest = TestApp::spawn_with(backend, |config| {
        config.run = all_but_catalog();
        config.identity.keys_file = Some(keys.clone());
        config.services.entry("catalog".into()).or_default().urls = vec![catalog_url.clone()];
    })
    .await;
    let mut config = rest.config().clone();
    config.run.clear();
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    for service in EVERY_SERVICE {
        let at = if service == "catalog" {
            catalog_url.clone()
        } else {
            rest.url("")
        };
        config.services.entry(service.into()).or_default().urls = vec![at];
    }
    let gateway = ordo_app::edge::Gateway::start(config)
        .await
        .expect("the gateway starts");
    let base = format!("http://{}", gateway.address);
    let http = reqwest::Client::new();
    let api = |method: Method, path: &str, token: &str| {
        http.request(method, format!("{base}/api/v1{path}"))
            .bearer_auth(token)
    };

    // Identity's routes and the catalogue's, through one address.
    let owner = rest.signup("merchant").await;
    let merchant = json_of(api(Method::POST, "/merchants", &owner.access_token).json(&json!({
        "name": "Trattoria", "kind": "restaurant", "address": "Via Roma 1", "lat": 52.5, "lon": 13.4
    })))
    .await;
    let merchant_id = merchant["id"].as_str().unwrap();
    let pizza = json_of(
        api(
            Method::POST,
            &format!("/merchants/{merchant_id}/products"),
            &owner.access_token,
        )
        .json(&json!({"name": "Margherita", "category": "Menu",
                      "price": {"amount": 950, "currency": "EUR"}})),
    )
    .await;
    let pizza = pizza["id"].as_str().unwrap();
    let stocked = api(
        Method::PUT,
        &format!("/products/{pizza}/stock"),
        &owner.access_token,
    )
    .json(&json!({"on_hand": 5}))
    .send()
    .await
    .unwrap();
    assert_eq!(stocked.status(), StatusCode::OK);
    let me = json_of(api(Method::GET, "/me", &owner.access_token)).await;
    assert_eq!(me["id"], owner.id.to_string());

    let customer = rest.signup("customer").await;
    let saved = api(Method::POST, "/me/payment-methods", &customer.access_token)
        .json(&json!({"card_number": GOOD_CARD, "exp_month": 12, "exp_year": 2035, "cvc": "123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::CREATED);
    let method = saved.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A live stream through the gateway: opened before the order, told of it as it comes.
    let stream = api(Method::GET, "/notifications/stream", &customer.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut inbox = EventStream::new(stream);
    let items = json!([{"product_id": pizza, "quantity": 1}]);
    let place = || {
        api(Method::POST, "/orders", &customer.access_token)
            .header("Idempotency-Key", "through-the-gateway")
            .json(&pickup(items.clone(), &method))
    };
    let order = json_of(place()).await;
    let again = json_of(place()).await;
    assert_eq!(order["id"], again["id"], "the same key, the same order");
    let id = order["id"].as_str().unwrap().to_owned();
    rest.eventually("the order is paid, as seen through the gateway", || async {
        json_of(api(
            Method::GET,
            &format!("/orders/{id}/status"),
            &customer.access_token,
        ))
        .await["status"]
            == "paid"
    })
    .await;
    let told = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        inbox.until(|event| event.event == "notification" && event.data["kind"] == "order_placed"),
    )
    .await
    .expect("the placed order is told on the stream, through the gateway");
    assert!(!told.is_empty());

    // A public read: tagged, kept by the gateway, 304 to a client that holds it, and read
    // afresh once the catalogue changed it.
    let read = || http.get(format!("{base}/api/v1/merchants/{merchant_id}"));
    let first = read().send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    let held = read().header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(held.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(held.headers()["etag"].to_str().unwrap(), etag);
    let renamed = api(
        Method::PATCH,
        &format!("/merchants/{merchant_id}"),
        &owner.access_token,
    )
    .json(&json!({"name": "Trattoria Nuova"}));
    assert_eq!(renamed.send().await.unwrap().status(), StatusCode::OK);
    ordo_testkit::until(
        &gateway.reads_dropped(),
        "the gateway reads the renamed merchant afresh",
        || async { json_of(read()).await["name"] == "Trattoria Nuova" },
    )
    .await;
    let own_merchant = || {
        api(
            Method::GET,
            &format!("/merchants/{merchant_id}"),
            &owner.access_token,
        )
        .send()
    };
    let own = own_merchant().await.unwrap();
    assert_eq!(own.headers()["cache-control"], "private, no-cache");

    // The gateway's own answers: its layers, its document, no internal routes.
    let anonymous = http.get(format!("{base}/api/v1/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("x-request-id"));
    let internal = http
        .get(format!(
            "{base}/internal/v1/catalog/merchants/{merchant_id}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(internal.status(), StatusCode::NOT_FOUND, "never routed");
    let document = json_of(http.get(format!("{base}/api/v1/openapi.json"))).await;
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/merchants/{id}",
        "/api/v1/orders",
        "/.well-known/jwks.json",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let jwks = json_of(http.get(format!("{base}/.well-known/jwks.json"))).await;
    assert!(!jwks["keys"].as_array().unwrap().is_empty());
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let page = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the customer app");

    // The catalogue's process gone: its routes answer 503 with Retry-After, the rest go on.
    catalog.stop().await;
    let gone = own_merchant().await.unwrap();
    assert_eq!(gone.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(gone.headers().contains_key("retry-after"));
    let me = api(Method::GET, "/me", &owner.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    gateway.stop().await.expect("a clean stop");
    rest.stop().await;
}
