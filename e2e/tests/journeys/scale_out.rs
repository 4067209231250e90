//! Services in processes of their own (`ordo serve --service`): one platform runs only the
//! catalogue, another every other service and calls the catalogue over HTTP; both share
//! PostgreSQL, the broker and the signing keys. A checkout through the second is priced by
//! the first.

use ordo_e2e::fixtures::{GOOD_CARD, card, pickup, status};
use ordo_e2e::{TestApp, json_of};
use ordo_testkit::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Every service but the catalogue.
const ALL_BUT_CATALOG: [&str; 10] = [
    "identity",
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
        config.run = ALL_BUT_CATALOG.map(str::to_owned).to_vec();
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
