//! One order's journey is one trace: a `POST /orders` sent with a `traceparent` yields JSON
//! log lines from the consumers of payments, inventory, orders and notifications that carry
//! its trace id and the order's id at the top, and — exported over OTLP/HTTP to a receiver
//! here — spans of the request and of every handler in that trace, each under a parent that
//! was exported too. Its own test binary, so that it owns the process's subscriber.

use axum::Router;
use axum::routing::post;
use ordo_e2e::TestApp;
use ordo_e2e::fixtures::{GOOD_CARD, card, order_request, pickup, shop};
use ordo_testkit::{Backend, backend_test};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Notify;

/// The caller's own span, named in the `traceparent` the request carries.
const CALLER_SPAN: &str = "00f067aa0ba902b7";

const CONSUMERS: [&str; 4] = [
    "inventory-reservations",
    "notifications-orders",
    "orders-payments",
    "payments-orders",
];

/// Every log line the process writes.
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

/// A span as the OTLP receiver got it.
#[derive(Debug, Clone)]
struct Exported {
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    attributes: HashMap<String, String>,
}

/// What an OTLP/HTTP collector would have received, and a wake-up per delivery.
#[derive(Default)]
struct Receiver {
    spans: Mutex<Vec<Exported>>,
    arrived: Notify,
}

impl Receiver {
    fn take(&self, body: &Value) {
        let spans = body["resourceSpans"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|resource| resource["scopeSpans"].as_array().into_iter().flatten())
            .flat_map(|scope| scope["spans"].as_array().into_iter().flatten())
            .map(|span| Exported {
                trace_id: text(&span["traceId"]),
                span_id: text(&span["spanId"]),
                parent_span_id: text(&span["parentSpanId"]),
                name: text(&span["name"]),
                attributes: span["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|kv| (text(&kv["key"]), text(&kv["value"]["stringValue"])))
                    .collect(),
            });
        self.spans.lock().expect("spans").extend(spans);
        self.arrived.notify_waiters();
    }

    fn in_trace(&self, trace_id: &str) -> Vec<Exported> {
        let spans = self.spans.lock().expect("spans");
        spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

struct Telemetry {
    lines: Lines,
    receiver: Arc<Receiver>,
    _guard: ordo_telemetry::Telemetry,
}

/// Starts the receiver on a thread of its own (each test has its own runtime) and installs
/// the platform's subscriber, JSON lines into a buffer and spans to the receiver.
fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let receiver = Arc::new(Receiver::default());
        let (address, listening) = std::sync::mpsc::channel();
        let serving = receiver.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("receiver runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("receiver binds");
                address
                    .send(listener.local_addr().expect("address"))
                    .expect("address sent");
                let app = Router::new().route(
                    "/v1/traces",
                    post(move |body: axum::Json<Value>| async move {
                        serving.take(&body);
                        axum::Json(json!({}))
                    }),
                );
                axum::serve(listener, app).await.expect("receiver serves");
            });
        });
        let address = listening.recv().expect("receiver listens");
        let lines = Lines::default();
        let writer = lines.clone();
        let guard = ordo_telemetry::init_with_writer(
            &ordo_telemetry::Settings {
                filter: "ordo_bus=debug,warn".into(),
                json: true,
                otlp_endpoint: Some(format!("http://{address}")),
                service_name: "ordo-e2e".into(),
            },
            move || writer.clone(),
        )
        .expect("telemetry installs");
        Telemetry {
            lines,
            receiver,
            _guard: guard,
        }
    })
}

/// The consumers whose log lines name `trace_id` and `order_id` at the top.
fn consumers_logging(trace_id: &str, order_id: &str) -> Vec<String> {
    let bytes = telemetry().lines.0.lock().expect("log buffer").clone();
    let mut found: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["trace_id"] == trace_id && line["order_id"] == order_id)
        .filter_map(|line| line["span"]["consumer"].as_str().map(str::to_owned))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Whether the spans of the trace hold a handler span of every consumer and each span's
/// parent is another of them — all but the request's, whose parent is the caller's.
fn whole(spans: &[Exported]) -> bool {
    let handled = CONSUMERS.iter().all(|consumer| {
        spans.iter().any(|s| {
            s.name == "event" && s.attributes.get("consumer").map(String::as_str) == Some(consumer)
        })
    });
    let parented = spans.iter().all(|span| {
        span.parent_span_id == CALLER_SPAN
            || spans
                .iter()
                .any(|parent| parent.span_id == span.parent_span_id)
    });
    handled && parented
}

async fn an_order_is_one_trace_across_services(backend: Backend) {
    let telemetry = telemetry();
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
        .header("traceparent", format!("00-{trace_id}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order: Value = placed.json().await.unwrap();
    let order_id = order["id"].as_str().expect("order id").to_owned();

    app.eventually(
        "every consumer of the order logs its trace and order",
        || async {
            let found = consumers_logging(&trace_id, &order_id);
            CONSUMERS
                .iter()
                .all(|consumer| found.iter().any(|f| f == consumer))
        },
    )
    .await;

    let receiver = &telemetry.receiver;
    ordo_testkit::until(
        &receiver.arrived,
        "the trace's spans are exported",
        || async { whole(&receiver.in_trace(&trace_id)) },
    )
    .await;
    let spans = receiver.in_trace(&trace_id);
    let roots: Vec<&Exported> = spans
        .iter()
        .filter(|s| s.parent_span_id == CALLER_SPAN)
        .collect();
    assert_eq!(
        roots.len(),
        1,
        "one span continues the caller's: {spans:#?}"
    );
    assert_eq!(roots[0].name, "request");
    app.stop().await;
}

backend_test!(order_trace, an_order_is_one_trace_across_services);
