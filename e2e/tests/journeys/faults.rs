//! The fault probe as journeys: PostgreSQL or NATS cut under load through a TCP proxy, the
//! broker's store wiped, the platform started while the broker is down. Each waits on the
//! platform (its bus, its readiness measurements), never on the clock.

use ordo_db::params;
use ordo_e2e::fixtures::{GOOD_CARD, Shop, card, order_request, pickup, shop, stock};
use ordo_e2e::{Session, TestApp, json_of};
use ordo_kernel::Secret;
use ordo_testkit::{Backend, TcpProxy};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Notify};
use uuid::Uuid;

/// The platform on PostgreSQL with its bus on NATS through a new proxy (cut before the
/// start when `cut`), or `None` when this run has no PostgreSQL or no NATS.
async fn behind_nats_proxy(
    test: &str,
    cut: bool,
    customize: impl FnOnce(&mut ordo_app::Config),
) -> Option<(TestApp, TcpProxy)> {
    let backend = ordo_testkit::postgres(test)?;
    let url = ordo_testkit::nats(test)?;
    let proxy = TcpProxy::in_front_of(&url).await;
    if cut {
        proxy.cut();
    }
    let bus_url = format!("nats://{}", proxy.addr);
    let app = TestApp::spawn_with(backend, |config| {
        config.bus_url = Some(Secret::new(bus_url));
        customize(config);
    })
    .await;
    Some((app, proxy))
}

/// A customer with a good card, and the body of an order for one pizza.
async fn buyer(app: &TestApp, shop: &Shop) -> (Session, Value) {
    let customer = app.signup("customer").await;
    let method = card(app, &customer, GOOD_CARD).await;
    let body = pickup(
        json!([{"product_id": shop.pizza.0, "quantity": 1}]),
        &method,
    );
    (customer, body)
}

/// How many of the customer's orders are in each status.
async fn statuses(app: &TestApp) -> Vec<(String, i64)> {
    app.databases["orders"]
        .fetch_all(
            "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status",
            params![],
        )
        .await
        .unwrap()
}

fn count_of(statuses: &[(String, i64)], status: &str) -> i64 {
    statuses
        .iter()
        .find(|(s, _)| s == status)
        .map_or(0, |(_, n)| *n)
}

/// Clients placing orders at once through the database outage.
const CLIENTS: usize = 16;

/// What one checkout request got: its key, status, whether it said when to retry, and
/// how long it took.
struct Answer {
    key: String,
    status: Option<StatusCode>,
    retry_after: bool,
    took: Duration,
}

/// PostgreSQL is cut while 16 clients place orders: every request answers 201, or 503
/// with `Retry-After`, well before the request timeout; readiness goes false and comes
/// back; every key whose request failed places its order when sent again; and once quiet,
/// no unit is held by an order that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_leaves_nothing_held() {
    let Some(backend) = ordo_testkit::postgres("a_database_outage_answers_503") else {
        return;
    };
    let Backend::Postgres { url, .. } = &backend else {
        unreachable!("a PostgreSQL backend")
    };
    let proxy = TcpProxy::in_front_of(url).await;
    let database_url = proxy.url_for(url);
    let app = TestApp::spawn_with(backend.clone(), |config| {
        config.database_url = Some(Secret::new(database_url));
        // One customer stands for many here.
        config.rate_limit.enabled = false;
    })
    .await;
    let timeout = Duration::from_secs(app.config.http.request_timeout_secs);
    let shop = shop(&app, 1000).await;
    let (customer, body) = buyer(&app, &shop).await;

    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let answered = Arc::new(Notify::new());
    let (created, unavailable) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let running = Arc::new(AtomicBool::new(true));
    // A client that met the outage waits until it is over, as one honouring Retry-After
    // would, instead of spending the stock on thousands of refused requests.
    let (over, restored) = (Arc::new(AtomicBool::new(false)), Arc::new(Notify::new()));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let request = {
            let (app_client, base) = (app.client.clone(), app.url("/api/v1/orders"));
            let (token, body) = (customer.access_token.clone(), body.clone());
            move |key: &str| {
                app_client
                    .post(&base)
                    .bearer_auth(&token)
                    .header("idempotency-key", key)
                    .json(&body)
                    .timeout(timeout)
            }
        };
        let (answers, answered) = (answers.clone(), answered.clone());
        let (created, unavailable, running) =
            (created.clone(), unavailable.clone(), running.clone());
        let (over, restored) = (over.clone(), restored.clone());
        clients.spawn(async move {
            while running.load(Ordering::SeqCst) {
                let key = Uuid::now_v7().to_string();
                let started = Instant::now();
                let response = request(&key).send().await;
                let took = started.elapsed();
                let (status, retry_after) = match &response {
                    Ok(response) => (
                        Some(response.status()),
                        response.headers().contains_key("retry-after"),
                    ),
                    Err(_) => (None, false),
                };
                match status {
                    Some(StatusCode::CREATED) => created.fetch_add(1, Ordering::SeqCst),
                    _ => unavailable.fetch_add(1, Ordering::SeqCst),
                };
                let refused = status != Some(StatusCode::CREATED);
                answers.lock().await.push(Answer {
                    key,
                    status,
                    retry_after,
                    took,
                });
                answered.notify_waiters();
                if refused {
                    let wait = restored.notified();
                    tokio::pin!(wait);
                    wait.as_mut().enable();
                    if !over.load(Ordering::SeqCst) {
                        wait.await;
                    }
                }
            }
        });
    }
    ordo_testkit::until(&answered, "orders flow", || async {
        created.load(Ordering::SeqCst) >= 32
    })
    .await;
    proxy.cut();
    app.until_ready_is(false).await;
    let readyz = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    ordo_testkit::until(&answered, "every client meets the outage", || async {
        unavailable.load(Ordering::SeqCst) >= CLIENTS
    })
    .await;
    proxy.restore();
    app.until_ready_is(true).await;
    running.store(false, Ordering::SeqCst);
    over.store(true, Ordering::SeqCst);
    restored.notify_waiters();
    while clients.join_next().await.is_some() {}

    let answers = std::mem::take(&mut *answers.lock().await);
    for answer in &answers {
        match answer.status {
            Some(StatusCode::CREATED) => {}
            Some(StatusCode::SERVICE_UNAVAILABLE) => {
                assert!(answer.retry_after, "a 503 says when to retry");
            }
            other => panic!("{other:?} during the outage: only 201 or 503 are right"),
        }
        assert!(
            answer.took < timeout / 2,
            "answered in {:?}, close to the request timeout",
            answer.took
        );
    }
    // Every failed key works again. A claim its first request left running is given up by
    // the sweep, driven here past `ABANDON_AFTER` rather than waited for.
    let later = ordo_kernel::time::now() + ordo_orders::ABANDON_AFTER + Duration::from_secs(1);
    app.service::<ordo_orders::Orders>()
        .abandon_stale_checkouts(later)
        .await
        .unwrap();
    let failed: Vec<&str> = answers
        .iter()
        .filter(|a| a.status != Some(StatusCode::CREATED))
        .map(|a| a.key.as_str())
        .collect();
    let placed = Mutex::new(std::collections::HashSet::new());
    app.eventually(
        "every failed key places its order when sent again",
        || async {
            let mut placed = placed.lock().await;
            for key in &failed {
                if placed.contains(key) {
                    continue;
                }
                let response = order_request(&app, &customer, key, &body)
                    .send()
                    .await
                    .unwrap();
                match response.status() {
                    StatusCode::CREATED => {
                        placed.insert(*key);
                    }
                    StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE => {}
                    other => panic!("{other} for a key sent again"),
                }
            }
            placed.len() == failed.len()
        },
    )
    .await;
    let orders = i64::try_from(answers.len()).unwrap();
    app.eventually("every order is paid", || async {
        count_of(&statuses(&app).await, "paid") == orders
    })
    .await;
    app.eventually(
        "no unit is held for an order that does not exist",
        || async { stock(&app, &shop, &shop.pizza.0).await == (1000 - orders, 0, 1000 - orders) },
    )
    .await;
    app.stop().await;
}

/// NATS is cut for longer than the stock hold: orders wait unpaid, their holds run out and
/// others take the stock; when NATS is back, no more orders are paid than there was stock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_longer_than_the_hold_never_oversells() {
    let test = "a_broker_outage_never_oversells";
    let hold_sweeps_often = |config: &mut ordo_app::Config| config.inventory.sweep_secs = 1;
    let Some((app, proxy)) = behind_nats_proxy(test, false, hold_sweeps_often).await else {
        return;
    };
    let shop = shop(&app, 10).await;
    let (customer, body) = buyer(&app, &shop).await;
    let place_eleven = || async {
        let mut created = Vec::new();
        let mut short = 0;
        for _ in 0..11 {
            let key = Uuid::now_v7().to_string();
            let response = order_request(&app, &customer, &key, &body)
                .send()
                .await
                .unwrap();
            match response.status() {
                StatusCode::CREATED => created.push(response.json::<Value>().await.unwrap()),
                StatusCode::CONFLICT => short += 1,
                other => panic!("{other} for a checkout"),
            }
        }
        (created.len(), short)
    };
    proxy.cut();
    assert_eq!(place_eleven().await, (10, 1), "ten held, one short");
    // The holds run out while the orders wait for their payment behind the outage.
    app.databases["inventory"]
        .execute(
            "UPDATE reservations SET expires_at = $1 WHERE status = 'held'",
            params![time::OffsetDateTime::UNIX_EPOCH],
        )
        .await
        .unwrap();
    app.eventually("the expired holds are given back", || async {
        stock(&app, &shop, &shop.pizza.0).await == (10, 0, 10)
    })
    .await;
    assert_eq!(place_eleven().await, (10, 1), "the stock is held again");
    proxy.restore();
    app.eventually("every order is settled", || async {
        let statuses = statuses(&app).await;
        count_of(&statuses, "paid") + count_of(&statuses, "cancelled") == 20
    })
    .await;
    let statuses = statuses(&app).await;
    assert_eq!(count_of(&statuses, "paid"), 10, "as many paid as in stock");
    app.eventually("the stock is all sold", || async {
        stock(&app, &shop, &shop.pizza.0).await == (0, 0, 0)
    })
    .await;
    app.eventually("the unpaid orders' authorisations are voided", || async {
        let (voided,): (i64,) = app.databases["payments"]
            .fetch_one(
                "SELECT COUNT(*) FROM payments WHERE status = 'voided'",
                params![],
            )
            .await
            .unwrap();
        voided == 10
    })
    .await;
    app.stop().await;
}

/// The broker comes back with an empty store (a disaster, a rebuilt cluster): orders placed
/// before, during and after reach `paid` with no restart and no manual republish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_paid_after_the_broker_lost_its_store() {
    let test = "orders_are_paid_after_a_wiped_broker";
    let Some((app, proxy)) = behind_nats_proxy(test, false, |_| {}).await else {
        return;
    };
    let shop = shop(&app, 100).await;
    let (customer, body) = buyer(&app, &shop).await;
    let place = |n: usize| {
        let (app, customer, body) = (&app, &customer, &body);
        async move {
            for _ in 0..n {
                let key = Uuid::now_v7().to_string();
                let response = order_request(app, customer, &key, body).send().await;
                assert_eq!(response.unwrap().status(), StatusCode::CREATED);
            }
        }
    };
    place(5).await;
    app.eventually("the first orders are paid", || async {
        count_of(&statuses(&app).await, "paid") == 5
    })
    .await;
    proxy.cut();
    place(5).await;
    let operator = async_nats::jetstream::new(
        async_nats::connect(ordo_testkit::nats("wipe").expect("a NATS run"))
            .await
            .unwrap(),
    );
    operator
        .delete_stream(&app.config.bus.stream)
        .await
        .expect("the broker loses its store");
    proxy.restore();
    place(5).await;
    app.eventually("every order is paid", || async {
        count_of(&statuses(&app).await, "paid") == 15
    })
    .await;
    app.stop().await;
}

/// `ordo serve` started while NATS is unreachable serves, takes orders, and pays them once
/// NATS can be reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_started_without_its_broker_pays_when_it_comes() {
    let test = "a_platform_started_without_its_broker";
    let Some((app, proxy)) = behind_nats_proxy(test, true, |_| {}).await else {
        return;
    };
    let shop = shop(&app, 10).await;
    let (customer, body) = buyer(&app, &shop).await;
    let placed = json_of(order_request(&app, &customer, "first", &body)).await;
    assert_eq!(placed["status"], "pending_payment");
    assert_eq!(count_of(&statuses(&app).await, "pending_payment"), 1);
    proxy.restore();
    app.eventually("the order is paid", || async {
        count_of(&statuses(&app).await, "paid") == 1
    })
    .await;
    app.until_ready_is(true).await;
    let readyz = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), StatusCode::OK);
    app.stop().await;
}

/// A broker whose stream cannot be made (its subjects overlap another stream's): the
/// platform is not ready, and `/readyz` says the broker's error, until the stream can be
/// made; then it is ready and publishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_cannot_be_made_keeps_the_platform_unready_and_says_why() {
    let test = "a_stream_that_cannot_be_made";
    let (Some(backend), Some(url)) = (ordo_testkit::postgres(test), ordo_testkit::nats(test))
    else {
        return;
    };
    let unique = ordo_testkit::unique_prefix();
    let js = async_nats::jetstream::new(async_nats::connect(url.as_str()).await.unwrap());
    let squatter = format!("X_{unique}");
    js.create_stream(async_nats::jetstream::stream::Config {
        name: squatter.clone(),
        subjects: vec![format!("{unique}.>")],
        ..Default::default()
    })
    .await
    .unwrap();
    let app = TestApp::spawn_with(backend, |config| {
        config.bus_url = Some(Secret::new(url.clone()));
        config.bus.stream = format!("E2E_{unique}");
        config.bus.subject_prefix.clone_from(&unique);
    })
    .await;
    app.until_readiness("readiness names the broker's error", || async {
        let (_, health) = app.readyz().await;
        health["bus_error"]
            .as_str()
            .is_some_and(|error| error.contains("overlap"))
    })
    .await;
    let (status, health) = app.readyz().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert_eq!(health["bus"], false);

    js.delete_stream(&squatter).await.unwrap();
    app.until_ready_is(true).await;
    let (status, health) = app.readyz().await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert!(health.get("bus_error").is_none(), "{health}");
    let shop = shop(&app, 5).await;
    let (customer, body) = buyer(&app, &shop).await;
    json_of(order_request(&app, &customer, "after", &body)).await;
    app.eventually("the order is paid", || async {
        count_of(&statuses(&app).await, "paid") == 1
    })
    .await;
    app.stop().await;
}

/// A NATS server that checks who talks to it (a user and password, TLS both ways): with a
/// wrong password the platform starts, is not ready, and `/readyz` says why without the
/// password; with the right one, it is ready and an order is paid through the broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secured_broker_refusing_the_platform_keeps_it_unready_and_says_why() {
    let Some(server) = ordo_testkit::SecuredNats::start("a_secured_broker_refusing").await else {
        return;
    };
    let secured = |password: &str| {
        let url = server.url_with(password);
        let nats = ordo_app::config::BusNatsConfig {
            tls_ca_file: Some(server.file("ca.pem")),
            tls_cert_file: Some(server.file("client-cert.pem")),
            tls_key_file: Some(server.file("client-key.pem")),
            tls: true,
            ..Default::default()
        };
        move |config: &mut ordo_app::Config| {
            config.bus_url = Some(Secret::new(url));
            config.bus.nats = nats;
            config.bus.subject_prefix = ordo_testkit::unique_prefix();
            config.bus.stream = format!("E2E_{}", config.bus.subject_prefix);
        }
    };
    let refused = TestApp::spawn_with(Backend::Sqlite, secured("not-the-password-71d2")).await;
    refused
        .until_readiness("readiness names the refusal", || async {
            let (_, health) = refused.readyz().await;
            health["bus_error"]
                .as_str()
                .is_some_and(|error| error.contains("authorization violation"))
        })
        .await;
    let (status, health) = refused.readyz().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert!(!health.to_string().contains("not-the-password"), "{health}");
    refused.stop().await;

    let app = TestApp::spawn_with(
        Backend::Sqlite,
        secured(ordo_testkit::SecuredNats::PASSWORD),
    )
    .await;
    app.until_ready_is(true).await;
    let shop = shop(&app, 5).await;
    let (customer, body) = buyer(&app, &shop).await;
    json_of(order_request(&app, &customer, "secured", &body)).await;
    app.eventually("the order is paid", || async {
        count_of(&statuses(&app).await, "paid") == 1
    })
    .await;
    app.stop().await;
}

/// Makes every insert into the orders table fail, as a database failing mid-checkout would.
async fn break_order_writes(app: &TestApp, broken: bool) {
    let db = &app.databases["orders"];
    let statements: &[&str] = match (db.dialect(), broken) {
        (ordo_db::Dialect::Sqlite, true) => &[
            "CREATE TRIGGER orders_broken BEFORE INSERT ON orders BEGIN SELECT RAISE(ABORT, 'the disk is gone'); END",
        ],
        (ordo_db::Dialect::Sqlite, false) => &["DROP TRIGGER orders_broken"],
        (ordo_db::Dialect::Postgres, true) => &[
            "CREATE FUNCTION orders_broken() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the disk is gone'; END $$",
            "CREATE TRIGGER orders_broken BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_broken()",
        ],
        (ordo_db::Dialect::Postgres, false) => &[
            "DROP TRIGGER orders_broken ON orders",
            "DROP FUNCTION orders_broken()",
        ],
    };
    let mut tx = db.begin().await.unwrap();
    for statement in statements {
        tx.execute(statement, params![]).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// A checkout that fails after reserving gives the stock back at once, and its key is
/// free for the retry.
async fn a_failed_checkout_gives_its_stock_and_key_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let (customer, body) = buyer(&app, &shop).await;
    break_order_writes(&app, true).await;
    let failed = order_request(&app, &customer, "k-broken", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    app.eventually("the stock held for it is back", || async {
        stock(&app, &shop, &shop.pizza.0).await == (10, 0, 10)
    })
    .await;
    break_order_writes(&app, false).await;
    let retried = order_request(&app, &customer, "k-broken", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        retried.status(),
        StatusCode::CREATED,
        "the key is free again"
    );
    app.eventually("the retry holds its one unit", || async {
        stock(&app, &shop, &shop.pizza.0).await.2 == 9
    })
    .await;
    app.stop().await;
}

ordo_testkit::backend_test!(
    failed_checkout,
    a_failed_checkout_gives_its_stock_and_key_back
);
