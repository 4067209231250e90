//! Search: a new product is found by a misspelt query and by its category facet, and
//! disappears when set inactive; `near` with `radius_km` keeps only what is inside, nearest
//! first; `open_now` hides a closed merchant; a deleted or foreign index is rebuilt at
//! start; hostile queries are refused with 422 (414 past the platform's request-target
//! limit) or answered, never a 5xx.

use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn merchant(
    app: &TestApp,
    owner: &Session,
    name: &str,
    at: (f64, f64),
    hours: Value,
) -> String {
    let merchant = json_of(app.as_user(owner, Method::POST, "/merchants").json(&json!({
        "name": name, "kind": "restaurant", "address": "Somewhere 1",
        "lat": at.0, "lon": at.1, "opening_hours": hours
    })))
    .await;
    merchant["id"].as_str().unwrap().to_owned()
}

async fn product(app: &TestApp, owner: &Session, merchant: &str, body: Value) -> String {
    let product = json_of(
        app.as_user(
            owner,
            Method::POST,
            &format!("/merchants/{merchant}/products"),
        )
        .json(&body),
    )
    .await;
    product["id"].as_str().unwrap().to_owned()
}

async fn search(app: &TestApp, query: &str) -> Value {
    json_of(app.api(Method::GET, &format!("/search?{query}"))).await
}

fn product_ids(page: &Value) -> Vec<String> {
    page["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["type"] == "product")
        .map(|h| h["product"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the search for `query` satisfies `wanted`; the index follows the bus.
async fn until_search(app: &TestApp, query: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let last = tokio::sync::Mutex::new(Value::Null);
    app.eventually(&format!("search {query} as expected"), || async {
        let page = search(app, query).await;
        let ok = wanted(&page);
        *last.lock().await = page;
        ok
    })
    .await;
    last.into_inner()
}

async fn found_by_typos_and_facets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.signup("merchant").await;
    let trattoria = merchant(&app, &owner, "Trattoria Roma", (52.5, 13.4), json!([])).await;
    let pizza = product(
        &app,
        &owner,
        &trattoria,
        json!({
            "name": "Margherita", "description": "Tomato, mozzarella & basil",
            "category": "Pizza", "tags": ["vegetarian"],
            "price": {"amount": 950, "currency": "EUR"}
        }),
    )
    .await;
    let set = app
        .as_user(&owner, Method::PUT, &format!("/products/{pizza}/stock"))
        .json(&json!({"on_hand": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);

    // Misspelt, and in stock once inventory's event is in.
    let page = until_search(&app, "q=margarita", |page| {
        page["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["product"]["id"] == pizza.as_str() && h["product"]["in_stock"] == true)
    })
    .await;
    let hit = &page["hits"][0];
    assert_eq!(hit["product"]["id"], pizza.as_str());
    assert_eq!(hit["highlights"]["name"], "<mark>Margherita</mark>");
    assert_eq!(hit["merchant"]["name"], "Trattoria Roma");
    assert_eq!(
        hit["merchant"]["open_now"], true,
        "no hours given: always open"
    );

    // By its category, with the facet counting it; the merchant's document lists the
    // categories it sells.
    let by_category = search(&app, "category=PIZZA").await;
    assert_eq!(product_ids(&by_category), std::slice::from_ref(&pizza));
    assert_eq!(
        by_category["facets"]["category"],
        json!([{"value": "Pizza", "count": 1}])
    );
    assert_eq!(by_category["facets"]["price"][0]["count"], 1, "under 10");
    let by_word = search(&app, "q=pizza").await;
    assert_eq!(
        by_word["total"], 2,
        "the product and the merchant selling pizza"
    );
    assert!(
        by_word["facets"]["kind"]
            .as_array()
            .unwrap()
            .contains(&json!({"value": "restaurant", "count": 2}))
    );
    let suggested = json_of(app.api(Method::GET, "/search/suggest?q=marg")).await;
    assert_eq!(suggested["suggestions"][0]["text"], "Margherita");
    assert_eq!(search(&app, "q=margarita&tags=vegan").await["total"], 0);
    assert_eq!(search(&app, "q=margarita&max_price=900").await["total"], 0);

    // Set inactive: gone.
    let patched = app
        .as_user(&owner, Method::PATCH, &format!("/products/{pizza}"))
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    until_search(&app, "q=margarita", |page| product_ids(page).is_empty()).await;
    app.stop().await;
}
backend_test!(found_by_typos, found_by_typos_and_facets);

async fn near_first_and_open_now(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.signup("merchant").await;
    // A day after tomorrow's first minute: never now.
    let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(usize::from(
        time::OffsetDateTime::now_utc()
            .weekday()
            .number_days_from_monday(),
    ) + 2)
        % 7];
    let closed_hours = json!([{"day": day, "open": "00:00", "close": "00:01"}]);
    let near = merchant(&app, &owner, "Near", (52.500, 13.400), json!([])).await;
    let mid = merchant(&app, &owner, "Mid", (52.520, 13.400), json!([])).await;
    let far = merchant(&app, &owner, "Far", (52.600, 13.400), json!([])).await;
    let closed = merchant(&app, &owner, "Shut", (52.501, 13.400), closed_hours).await;
    let mut soups = Vec::new();
    for merchant in [&mid, &far, &near, &closed] {
        let soup = json!({"name": "Soup", "category": "Soups", "price": {"amount": 500, "currency": "EUR"}});
        soups.push(product(&app, &owner, merchant, soup).await);
    }
    let (mid_soup, far_soup, near_soup, closed_soup) = (&soups[0], &soups[1], &soups[2], &soups[3]);
    until_search(&app, "q=soup&category=soups", |page| page["total"] == 4).await;

    let inside = search(
        &app,
        "q=soup&category=soups&near=52.5,13.4&radius_km=5&sort=distance",
    )
    .await;
    assert_eq!(
        product_ids(&inside),
        [near_soup.clone(), closed_soup.clone(), mid_soup.clone()],
        "nearest first, the far one outside"
    );
    let distances: Vec<f64> = inside["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["distance_km"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances.iter().all(|d| *d <= 5.0), "{distances:?}");
    assert!(!product_ids(&search(&app, "q=soup&near=52.5,13.4&radius_km=50").await).is_empty());
    assert!(
        product_ids(&search(&app, "q=soup&near=52.5,13.4&radius_km=50").await).contains(far_soup)
    );

    let open = search(&app, "q=soup&category=soups&open_now=true").await;
    assert_eq!(open["total"], 3);
    assert!(!product_ids(&open).contains(closed_soup));
    let all = search(&app, "q=soup&category=soups").await;
    let shut = all["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["product"]["id"] == closed_soup.as_str())
        .unwrap();
    assert_eq!(shut["merchant"]["open_now"], false);
    app.stop().await;
}
backend_test!(near_and_open_now, near_first_and_open_now);

async fn rebuilt_at_start(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.signup("merchant").await;
    let shop = merchant(&app, &owner, "Corner Shop", (52.5, 13.4), json!([])).await;
    let tea = product(
        &app,
        &owner,
        &shop,
        json!({
            "name": "Earl Grey", "category": "Tea", "price": {"amount": 450, "currency": "EUR"}
        }),
    )
    .await;
    until_search(&app, "q=earl", |page| product_ids(page) == [tea.clone()]).await;

    // Deleted while stopped.
    let app = app
        .restart_with(|dir| std::fs::remove_dir_all(dir.join("search")).unwrap())
        .await;
    until_search(&app, "q=earl", |page| product_ids(page) == [tea.clone()]).await;

    // Written by another version.
    let app = app
        .restart_with(|dir| {
            std::fs::write(
                dir.join("search").join("ordo-schema-version"),
                "ordo-search 0",
            )
            .unwrap();
        })
        .await;
    until_search(&app, "q=earl", |page| product_ids(page) == [tea.clone()]).await;
    assert_eq!(
        std::fs::read_to_string(app.data_dir().join("search").join("ordo-schema-version")).unwrap(),
        ordo_search::INDEX_SCHEMA_VERSION
    );
    app.stop().await;
}
backend_test!(rebuilt_when_missing, rebuilt_at_start);

async fn hostile_queries_are_answered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Past the platform's 8 KiB request target: refused before search sees it.
    let huge = "x".repeat(10 * 1024);
    for query in [format!("q={huge}"), format!("q={}", "pizza+".repeat(3_000))] {
        let response = app
            .api(Method::GET, &format!("/search?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
        problem(response).await;
    }
    let long = "x".repeat(7 * 1024);
    let many = "a+".repeat(2_000);
    let tags = ",".repeat(1_000) + &"t,".repeat(20);
    let refused = [
        format!("q={long}"),
        format!("q={many}"),
        "near=52.5,13.4&radius_km=-1".to_owned(),
        "near=NaN,NaN".to_owned(),
        "near=52.5,13.4&radius_km=NaN".to_owned(),
        "near=52.5,13.4&radius_km=inf".to_owned(),
        "radius_km=3".to_owned(),
        "sort=distance".to_owned(),
        "sort=cheapest".to_owned(),
        "cursor=garbage".to_owned(),
        "limit=0".to_owned(),
        "min_price=-5".to_owned(),
        "min_price=500&max_price=100".to_owned(),
        "kind=spaceship".to_owned(),
        "merchant=nobody".to_owned(),
        format!("tags={tags}"),
        "open_now=perhaps".to_owned(),
        "q=%00%01".to_owned(),
        "q=%ff%fe".to_owned(),
        "category=caf%E9".to_owned(),
        "near=5e1,1e1".to_owned(),
        "near=52.5,13.4e0".to_owned(),
        "near=0x34,13".to_owned(),
        "unknown=1".to_owned(),
    ];
    for query in &refused {
        let response = app
            .api(Method::GET, &format!("/search?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query:.80}"
        );
        problem(response).await;
    }
    let answered = [
        "q=%22unbalanced",
        "q=*",
        "q=((((((((((((((((((((",
        "q=AND+OR+NOT+-+%2B",
        "q=field:value~2^3",
        "q=%F0%9F%8D%95+pizza",
        "q=",
        "near=-33.8688,%2B151.2093",
    ];
    for query in answered {
        let response = app
            .api(Method::GET, &format!("/search?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{query}");
    }
    let suggest = app
        .api(Method::GET, &format!("/search/suggest?q={long}"))
        .send()
        .await
        .unwrap();
    assert_eq!(suggest.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}
backend_test!(hostile_queries, hostile_queries_are_answered);
