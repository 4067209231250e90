//! The served API against its contract (`docs/contract/API.md`): every path the contract's
//! tables list that is served must be served under the methods the contract gives. Paths
//! the contract lists that are not built yet are reported, not failed, until they are.

use ordo_e2e::TestApp;
use ordo_testkit::Backend;
use reqwest::Method;
use std::collections::{BTreeMap, BTreeSet};

const CONTRACT: &str = include_str!("../../../docs/contract/API.md");

/// Paths the contract gives at the root rather than under `/api/v1`.
const ROOT: [&str; 4] = ["/.well-known/jwks.json", "/healthz", "/readyz", "/metrics"];

/// `/merchants/{id}/products` and `/merchants/{merchant_id}/products` are one path.
fn normalized(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// (method, full path) of every operation in the contract's tables. A cell reads
/// `GET, POST /me/addresses · PATCH, DELETE /me/addresses/{id}`; a part without methods
/// (`· /reject`) is a sibling of the previous path with its methods.
fn contract_operations(text: &str) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with("| ")) {
        let cell = line
            .trim_start_matches("| ")
            .split(" |")
            .next()
            .unwrap_or("");
        let mut last: Option<(Vec<String>, String)> = None;
        for part in cell.split(" · ") {
            let part = part.trim();
            let (methods, path) = match part.find('/') {
                Some(0) => {
                    let Some((methods, previous)) = &last else {
                        continue;
                    };
                    let parent = previous.rsplit_once('/').map_or("", |(p, _)| p);
                    (methods.clone(), format!("{parent}{part}"))
                }
                Some(at) => {
                    let methods: Vec<String> = part[..at]
                        .split(',')
                        .map(|m| m.trim().to_owned())
                        .filter(|m| !m.is_empty())
                        .collect();
                    (methods, part[at..].trim().to_owned())
                }
                None => continue,
            };
            if methods.is_empty()
                || !methods
                    .iter()
                    .all(|m| Method::from_bytes(m.as_bytes()).is_ok())
            {
                continue;
            }
            let path = normalized(&path);
            let full = if ROOT.contains(&path.as_str()) {
                path.clone()
            } else {
                format!("/api/v1{path}")
            };
            for method in &methods {
                operations.insert((method.to_uppercase(), full.clone()));
            }
            last = Some((methods, path));
        }
    }
    operations
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_routes_follow_the_contract() {
    let operations = contract_operations(CONTRACT);
    assert!(operations.len() > 60, "the contract's tables were read");

    let app = TestApp::spawn(Backend::Sqlite).await;
    let document = app.openapi().await;
    let mut served: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let methods = item.as_object().unwrap().keys().map(|m| m.to_uppercase());
        served.entry(normalized(path)).or_default().extend(methods);
    }

    let mut wrong = Vec::new();
    let mut not_yet = Vec::new();
    for (method, path) in &operations {
        match served.get(path) {
            Some(methods) if methods.contains(method) => {}
            Some(methods) => wrong.push(format!("{method} {path} (served: {methods:?})")),
            None => not_yet.push(format!("{method} {path}")),
        }
    }
    eprintln!(
        "contract paths not served yet ({}):\n  {}",
        not_yet.len(),
        not_yet.join("\n  ")
    );
    assert!(
        wrong.is_empty(),
        "served under other methods than the contract says:\n  {}",
        wrong.join("\n  ")
    );
    app.stop().await;
}

#[test]
fn the_contract_tables_are_read_as_the_team_writes_them() {
    let table = "| GET, POST /me/addresses · PATCH, DELETE /me/addresses/{id} | any | x |\n\
                 | POST /orders/{id}/accept · /reject | staff | |\n\
                 | GET /merchants?near=LAT,LON&radius_km=R | public | |\n\
                 | GET /healthz · GET /openapi.json | public | |\n\
                 | method path | who | does |";
    let operations: Vec<(String, String)> = contract_operations(table).into_iter().collect();
    let expected: Vec<(String, String)> = [
        ("DELETE", "/api/v1/me/addresses/{}"),
        ("GET", "/api/v1/me/addresses"),
        ("GET", "/api/v1/merchants"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/healthz"),
        ("PATCH", "/api/v1/me/addresses/{}"),
        ("POST", "/api/v1/me/addresses"),
        ("POST", "/api/v1/orders/{}/accept"),
        ("POST", "/api/v1/orders/{}/reject"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(operations, expected);
}
