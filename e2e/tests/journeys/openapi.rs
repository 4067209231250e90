//! The OpenAPI document and the served routes describe the same API.

use ordo_e2e::TestApp;
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use std::collections::BTreeSet;

async fn document_and_routes_agree(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = app.openapi().await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();

    // Every operation declares the errors the layers may answer, as problem documents.
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for status in ["401", "429", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object();
                    assert!(
                        content.is_some_and(|c| c.contains_key("application/problem+json")),
                        "{method} {path} {status} is not a problem document"
                    );
                }
            }
        }
    }
    let checkout = &paths["/api/v1/orders"]["post"]["responses"];
    for status in ["400", "413", "415", "422"] {
        assert!(
            checkout.get(status).is_some(),
            "POST /orders lacks {status}"
        );
    }
    assert!(paths["/api/v1/orders/{id}"]["get"]["responses"]["404"].is_object());

    // Every documented operation is served: the router answers something other than
    // "no route" or "method not allowed".
    let mut documented = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
            let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .client
                .request(method.clone(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_ne!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
            assert!(
                !body.contains("no route matches"),
                "{method} {path} is documented but not routed"
            );
        }
    }

    // Every route that has served a request in this process (the metrics label each with
    // its route template) is documented.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
    {
        let label = |name: &str| {
            let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            line[start..].split('"').next().unwrap().to_owned()
        };
        let (method, route) = (label("method"), label("route"));
        // 405s name a route with a method it does not serve; preflights are CORS's.
        if route == "unmatched" || method == "OPTIONS" || label("status") == "405" {
            continue;
        }
        assert!(
            documented.contains(&(method.clone(), route.clone())),
            "{method} {route} is served but not documented"
        );
    }
    app.stop().await;
}
backend_test!(openapi, document_and_routes_agree);
