//! One order's journey is one trace: a `POST /orders` sent with a `traceparent` yields log
//! lines from the consumers of payments, inventory, orders and notifications that carry
//! its trace id. Its own test binary, so that it owns the process's log subscriber.

use ordo_e2e::TestApp;
use ordo_e2e::fixtures::{GOOD_CARD, card, order_request, pickup, shop};
use ordo_testkit::{Backend, backend_test};
use reqwest::StatusCode;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Every log line the process writes, as JSON.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Lines {
    static LINES: OnceLock<Lines> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines = Lines::default();
        let writer = lines.clone();
        tracing_subscriber::fmt()
            .with_env_filter("ordo_bus=debug,warn")
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(move || writer.clone())
            .init();
        lines
    })
}

/// The consumers whose log lines carry `trace_id`.
fn consumers_in(trace_id: &str) -> Vec<String> {
    let bytes = logs().0.lock().expect("log buffer").clone();
    let mut found: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|line| line.contains(trace_id))
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| line["span"]["consumer"].as_str().map(str::to_owned))
        .collect();
    found.sort();
    found.dedup();
    found
}

async fn an_order_is_one_trace_across_services(backend: Backend) {
    logs();
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.signup("customer").await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let body = pickup(
        json!([{"product_id": shop.pizza.0, "quantity": 1}]),
        &method,
    );
    let placed = order_request(&app, &customer, "traced", &body)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    let wanted = [
        "inventory-reservations",
        "notifications-orders",
        "orders-payments",
        "payments-orders",
    ];
    app.eventually("every consumer of the order logs its trace", || async {
        let found = consumers_in(&trace_id);
        wanted
            .iter()
            .all(|consumer| found.iter().any(|f| f == consumer))
    })
    .await;
    app.stop().await;
}

backend_test!(order_trace, an_order_is_one_trace_across_services);
