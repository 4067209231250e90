//! The city's people at work: customers ordering at a Poisson rate, merchants watching
//! their queue, couriers told of offers on their notification stream, taking them and
//! riding. Each acts only through the API.

use super::SimArgs;
use super::city::{Api, City, Customer, Person, Refused};
use super::stats::{Stage, Stats};
use ordo_kernel::geo::distance_km;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use uuid::Uuid;

/// How often merchants look at their queue (and couriers without a stream at their offers).
const LOOK_EVERY: Duration = Duration::from_millis(300);
/// An idle courier looks at its offers at least this often, told of one or not.
const OFFER_FALLBACK: Duration = Duration::from_secs(5);
/// Couriers report their position this often while riding.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// An order under way, as the people of the city share it.
struct Order {
    merchant: usize,
    ready: AtomicBool,
    readied: Notify,
}

struct Shared {
    city: Arc<City>,
    stats: Arc<Stats>,
    orders: std::sync::Mutex<HashMap<Uuid, Arc<Order>>>,
    stop: watch::Receiver<bool>,
    courier_kmh: f64,
    /// Where each acknowledged order is written (`--acknowledged`).
    acknowledged: Option<std::sync::Mutex<std::fs::File>>,
}

impl Shared {
    fn order(&self, id: Uuid) -> Option<Arc<Order>> {
        self.orders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    fn api(&self) -> &Api {
        &self.city.api
    }

    /// Counts a refusal by its status, and passes it on.
    fn noted<T>(&self, result: Result<T, Refused>) -> Result<T, Refused> {
        if let Err(refused) = &result {
            self.stats.error(refused.status.as_u16());
        }
        result
    }

    /// Writes the order down at once, one line in one write: the drill reading the file
    /// meanwhile, or after this process is killed, sees every order acknowledged so far.
    fn acknowledge(&self, id: Uuid) {
        let Some(file) = &self.acknowledged else {
            return;
        };
        let at_ms = ordo_kernel::time::now().unix_timestamp_nanos() / 1_000_000;
        let line = format!("{}\n", json!({ "id": id, "at_ms": at_ms }));
        let mut file = file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(error) = file.write_all(line.as_bytes()) {
            tracing::error!(%error, "writing an acknowledged order down");
        }
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sleeps `d`, or less when the simulation stops; false when it stopped.
    async fn pause(&self, d: Duration) -> bool {
        let mut stop = self.stop.clone();
        tokio::select! {
            () = tokio::time::sleep(d) => !self.stopped(),
            _ = stop.wait_for(|s| *s) => false,
        }
    }
}

/// Runs the city: orders arrive for `duration`, then the ones under way are followed for at
/// most `follow_up`. Prints a progress line each second when `progress`; writes each
/// acknowledged order to `acknowledged`.
pub async fn run(
    city: Arc<City>,
    stats: Arc<Stats>,
    args: &SimArgs,
    acknowledged: Option<std::fs::File>,
    duration: Duration,
    follow_up: Duration,
    progress: bool,
) {
    let (stopping, stop) = watch::channel(false);
    let shared = Arc::new(Shared {
        city,
        stats,
        orders: std::sync::Mutex::new(HashMap::new()),
        stop,
        courier_kmh: args.courier_kmh,
        acknowledged: acknowledged.map(std::sync::Mutex::new),
    });
    let mut people = tokio::task::JoinSet::new();
    for n in 0..shared.city.merchants.len() {
        people.spawn(merchant(
            shared.clone(),
            n,
            args.seed.wrapping_add(n as u64),
        ));
    }
    for n in 0..shared.city.couriers.len() {
        people.spawn(courier(shared.clone(), n));
    }
    if progress {
        people.spawn(report(shared.clone()));
    }
    arrivals(&shared, args.rate, args.seed, duration).await;
    let until = Instant::now() + follow_up;
    while Instant::now() < until && shared.stats.progress().in_flight() > 0 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = stopping.send(true);
    while people.join_next().await.is_some() {}
}

/// Customers order at `rate` a second on average, each order a Poisson arrival.
async fn arrivals(shared: &Arc<Shared>, rate: f64, seed: u64, duration: Duration) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let start = Instant::now();
    let mut at = Duration::ZERO;
    let mut n = 0_u64;
    loop {
        // Exponential gaps: -ln(U) / rate seconds.
        at += Duration::from_secs_f64(-(1.0 - rng.f64()).ln() / rate);
        if at >= duration || shared.stopped() {
            return;
        }
        tokio::time::sleep_until(start + at).await;
        let customer = rng.usize(..shared.city.customers.len());
        let merchant = rng.usize(..shared.city.merchants.len());
        let mut items: Vec<Value> = Vec::new();
        for product in &shared.city.merchants[merchant].products {
            if rng.bool() {
                items.push(json!({"product_id": product, "quantity": rng.i64(1..=3)}));
            }
        }
        let items = if items.is_empty() {
            vec![json!({"product_id": shared.city.merchants[merchant].products[0], "quantity": 1})]
        } else {
            items
        };
        n += 1;
        let key = format!("sim-{seed}-{n}");
        tokio::spawn(place(shared.clone(), customer, merchant, items, key));
    }
}

async fn place(
    shared: Arc<Shared>,
    customer: usize,
    merchant: usize,
    items: Vec<Value>,
    key: String,
) {
    let Customer {
        person,
        address_id,
        card_id,
    } = &shared.city.customers[customer];
    let body = json!({
        "items": items, "fulfilment": "delivery",
        "address_id": address_id, "payment_method_id": card_id,
    });
    let headers = [("idempotency-key", key)];
    let placed = shared.api().call(
        Method::POST,
        "/orders",
        Some(&person.token),
        Some(&body),
        &headers,
    );
    match shared.noted(placed.await) {
        Ok(order) => {
            let Some(id) = order["id"].as_str().and_then(|id| id.parse::<Uuid>().ok()) else {
                return;
            };
            shared
                .orders
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(
                    id,
                    Arc::new(Order {
                        merchant,
                        ready: AtomicBool::new(false),
                        readied: Notify::new(),
                    }),
                );
            shared.acknowledge(id);
            shared.stats.placed(id);
        }
        Err(_) => shared.stats.refused(),
    }
}

/// A merchant's kitchen: paid orders are accepted after a moment and ready a few seconds
/// later.
async fn merchant(shared: Arc<Shared>, n: usize, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut seen: HashSet<Uuid> = HashSet::new();
    let (id, token) = {
        let m = &shared.city.merchants[n];
        (m.id, m.staff.token.clone())
    };
    let queue = format!("/merchants/{id}/orders?status=paid&limit=100");
    while shared.pause(LOOK_EVERY).await {
        let Ok(page) = shared.noted(
            shared
                .api()
                .call(Method::GET, &queue, Some(&token), None, &[])
                .await,
        ) else {
            continue;
        };
        for order in page["items"].as_array().into_iter().flatten() {
            let Some(order) = order["id"].as_str().and_then(|id| id.parse::<Uuid>().ok()) else {
                continue;
            };
            if !seen.insert(order) {
                continue;
            }
            shared.stats.reached(order, Stage::Paid);
            let accept_after = Duration::from_millis(rng.u64(300..1500));
            let ready_after = Duration::from_millis(rng.u64(1000..4000));
            tokio::spawn(cook(
                shared.clone(),
                token.clone(),
                order,
                accept_after,
                ready_after,
            ));
        }
    }
}

async fn cook(
    shared: Arc<Shared>,
    token: String,
    order: Uuid,
    accept_after: Duration,
    ready_after: Duration,
) {
    if !shared.pause(accept_after).await {
        return;
    }
    let path = |action: &str| format!("/orders/{order}/{action}");
    let accept = path("accept");
    let accepted = shared
        .api()
        .call(Method::POST, &accept, Some(&token), None, &[]);
    if shared.noted(accepted.await).is_err() {
        return;
    }
    shared.stats.reached(order, Stage::Accepted);
    if !shared.pause(ready_after).await {
        return;
    }
    let ready = path("ready");
    let ready = shared
        .api()
        .call(Method::POST, &ready, Some(&token), None, &[]);
    if shared.noted(ready.await).is_ok()
        && let Some(state) = shared.order(order)
    {
        state.ready.store(true, Ordering::Release);
        state.readied.notify_waiters();
    }
}

/// A courier: looks for offers while idle, takes one, rides to the merchant, waits for the
/// order, rides to the customer and hands it over.
async fn courier(shared: Arc<Shared>, n: usize) {
    let Person { token, at } = shared.city.couriers[n].clone();
    let mut here = at;
    let mut listening: Option<reqwest::Response> = None;
    while !shared.stopped() {
        // Listen before looking: an offer made in between still wakes the courier.
        if listening.is_none() {
            listening = shared
                .noted(shared.api().listen("/notifications/stream", &token).await)
                .ok();
        }
        let Ok(offers) = shared.noted(
            shared
                .api()
                .call(Method::GET, "/courier/offers", Some(&token), None, &[])
                .await,
        ) else {
            shared.pause(LOOK_EVERY).await;
            continue;
        };
        let Some(offer) = offers["items"]
            .as_array()
            .and_then(|items| items.first())
            .cloned()
        else {
            wait_for_offer(&shared, &mut listening).await;
            continue;
        };
        let accept = format!(
            "/courier/offers/{}/accept",
            offer["id"].as_str().unwrap_or_default()
        );
        let delivery = match shared
            .api()
            .call(Method::POST, &accept, Some(&token), None, &[])
            .await
        {
            Ok(delivery) => delivery,
            Err(refused) if refused.status == StatusCode::CONFLICT => {
                shared.stats.race();
                // Another courier was quicker; look again in a moment, not at once.
                shared.pause(LOOK_EVERY).await;
                continue;
            }
            Err(refused) => {
                shared.stats.error(refused.status.as_u16());
                continue;
            }
        };
        if let Some(end) = deliver(&shared, &token, here, &delivery).await {
            here = end;
        }
        // What was offered meanwhile is stale: listen afresh.
        listening = None;
    }
}

/// Waits until the courier is told of an offer (`delivery_offered` on its notification
/// stream), or a while passes, or the simulation stops. A stream that ends is dropped, to
/// be opened again.
async fn wait_for_offer(shared: &Shared, listening: &mut Option<reqwest::Response>) {
    let Some(stream) = listening.as_mut() else {
        shared.pause(LOOK_EVERY).await;
        return;
    };
    let mut stop = shared.stop.clone();
    let give_up = tokio::time::sleep(OFFER_FALLBACK);
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            chunk = stream.chunk() => match chunk {
                Ok(Some(bytes)) if String::from_utf8_lossy(&bytes).contains("delivery_offered") => return,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => {
                    *listening = None;
                    return;
                }
            },
            () = &mut give_up => return,
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// One delivery, from the accepted offer to the door; where the courier ends up.
async fn deliver(
    shared: &Shared,
    token: &str,
    from: (f64, f64),
    delivery: &Value,
) -> Option<(f64, f64)> {
    let order: Uuid = delivery["order_id"].as_str()?.parse().ok()?;
    let id = delivery["id"].as_str()?.to_owned();
    shared.stats.reached(order, Stage::Assigned);
    let point = |stop: &Value| Some((stop["lat"].as_f64()?, stop["lon"].as_f64()?));
    let (pickup, drop_off) = (point(&delivery["pickup"])?, point(&delivery["drop_off"])?);
    let here = ride(shared, token, from, pickup).await?;
    let state = shared.order(order)?;
    while !state.ready.load(Ordering::Acquire) {
        let readied = state.readied.notified();
        tokio::pin!(readied);
        readied.as_mut().enable();
        if state.ready.load(Ordering::Acquire) {
            break;
        }
        let mut stop = shared.stop.clone();
        tokio::select! {
            () = readied => {}
            _ = stop.wait_for(|s| *s) => return None,
        }
    }
    // The merchant hands it over.
    let merchant = &shared.city.merchants[state.merchant].staff.token;
    let hand_over = format!("/orders/{order}/picked-up");
    let handed = shared
        .api()
        .call(Method::POST, &hand_over, Some(merchant), None, &[]);
    shared.noted(handed.await).ok()?;
    shared.stats.reached(order, Stage::PickedUp);
    let here = ride(shared, token, here, drop_off).await?;
    // The hand-over reaches delivery as an event: until it has, delivering is early (409).
    let delivered = format!("/deliveries/{id}/delivered");
    loop {
        match shared
            .api()
            .call(Method::POST, &delivered, Some(token), None, &[])
            .await
        {
            Ok(_) => break,
            Err(refused) if refused.status == StatusCode::CONFLICT => {
                if !shared.pause(Duration::from_millis(100)).await {
                    return None;
                }
            }
            Err(refused) => {
                shared.stats.error(refused.status.as_u16());
                return None;
            }
        }
    }
    shared.stats.reached(order, Stage::Delivered);
    Some(here)
}

/// Rides in a straight line to `to`, reporting the position every `REPORT_EVERY`.
async fn ride(
    shared: &Shared,
    token: &str,
    from: (f64, f64),
    to: (f64, f64),
) -> Option<(f64, f64)> {
    let km = distance_km(from, to);
    let step_km = shared.courier_kmh * REPORT_EVERY.as_secs_f64() / 3600.0;
    let steps = (km / step_km).ceil().max(1.0) as u32;
    for step in 1..=steps {
        if !shared.pause(REPORT_EVERY).await {
            return None;
        }
        let f = f64::from(step) / f64::from(steps);
        let here = (from.0 + (to.0 - from.0) * f, from.1 + (to.1 - from.1) * f);
        let body = json!({"lat": here.0, "lon": here.1});
        let _ = shared.noted(
            shared
                .api()
                .call(
                    Method::PUT,
                    "/courier/location",
                    Some(token),
                    Some(&body),
                    &[],
                )
                .await,
        );
    }
    Some(to)
}

/// The progress line, once a second.
async fn report(shared: Arc<Shared>) {
    let mut last = shared.stats.progress();
    while shared.pause(Duration::from_secs(1)).await {
        let now = shared.stats.progress();
        print!(
            "\rplaced {:>7} ({:>5}/s)  delivered {:>7} ({:>5}/s)  under way {:>6}  refused {:>5}   ",
            now.placed,
            now.placed - last.placed,
            now.delivered,
            now.delivered - last.delivered,
            now.in_flight(),
            now.refused,
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
        last = now;
    }
}
