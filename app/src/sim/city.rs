//! The simulated city, built through the public API as its people would: merchants with
//! menus and stock, couriers online at their spots, customers with an address and a card.
//! Places come from the seed, so one seed builds one city.

use super::SimArgs;
use anyhow::Context;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// Where the city is: the middle of Berlin.
const CENTRE: (f64, f64) = (52.52, 13.405);
/// How far from the centre people live and work.
const SPREAD_KM: f64 = 4.0;
/// Accounts set up at once: registering hashes a password, which is meant to be slow.
const AT_ONCE: usize = 8;
const PASSWORD: &str = "simulated-city-password";

/// How often a request answered 503 (a dependency busy or down) is sent again.
const UNAVAILABLE_RETRIES: u32 = 4;
/// How often a step answered 409 with `Retry-After` (it waits on an event not yet handled,
/// such as a hand-over before the order has heard of its courier) is sent again.
const NOT_YET_RETRIES: u32 = 60;

/// A client of the platform's API, and what it answered when it refused.
#[derive(Debug, Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    /// Requests answered 503 and sent again.
    retried: Arc<AtomicU64>,
}

/// A refusal: the status and the problem's detail.
#[derive(Debug, Clone)]
pub struct Refused {
    pub status: StatusCode,
    pub detail: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl std::error::Error for Refused {}

impl Api {
    fn new(base: &str) -> Self {
        Api {
            client: reqwest::Client::new(),
            base: base.to_owned(),
            retried: Arc::default(),
        }
    }

    /// How many requests were answered 503 and sent again.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    /// Sends a request as `token` (if any) and reads its JSON answer. Throttled (429), told
    /// the platform is unavailable for now (503) or that the step is early (409 with
    /// `Retry-After`), it waits as `Retry-After` says and asks again, as a well-behaved
    /// client does; a 503 a few times at most, an early step for a minute at most.
    ///
    /// # Errors
    /// Any answer but a 2xx, or no answer (status 599).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Value, Refused> {
        let (mut unavailable, mut early) = (0, 0);
        loop {
            match self.once(method.clone(), path, token, body, headers).await {
                Err((refused, Some(wait))) if refused.status == StatusCode::TOO_MANY_REQUESTS => {
                    tokio::time::sleep(wait).await;
                }
                Err((refused, Some(wait)))
                    if refused.status == StatusCode::SERVICE_UNAVAILABLE
                        && unavailable < UNAVAILABLE_RETRIES =>
                {
                    unavailable += 1;
                    self.retried.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(wait).await;
                }
                Err((refused, Some(wait)))
                    if refused.status == StatusCode::CONFLICT && early < NOT_YET_RETRIES =>
                {
                    early += 1;
                    tokio::time::sleep(wait).await;
                }
                Err((refused, _)) => return Err(refused),
                Ok(value) => return Ok(value),
            }
        }
    }

    /// Opens a server-sent event stream as `token`.
    ///
    /// # Errors
    /// Any answer but a 2xx, or no answer.
    pub async fn listen(&self, path: &str, token: &str) -> Result<reqwest::Response, Refused> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| Refused {
                status: StatusCode::from_u16(599).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                detail: e.to_string(),
            })?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(Refused {
                status: response.status(),
                detail: "the stream was refused".into(),
            })
        }
    }

    /// One request; a refusal comes with the wait its `Retry-After` asks for.
    async fn once(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Value, (Refused, Option<Duration>)> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| {
            let status = StatusCode::from_u16(599).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let detail = e.to_string();
            (Refused { status, detail }, None)
        })?;
        let status = response.status();
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(|secs| Duration::from_secs(secs.clamp(1, 60)));
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
        } else {
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|p| p["detail"].as_str().map(str::to_owned))
                .unwrap_or(text);
            Err((Refused { status, detail }, wait))
        }
    }
}

/// A signed-in person of the city.
#[derive(Debug, Clone)]
pub struct Person {
    pub token: String,
    pub at: (f64, f64),
}

#[derive(Debug, Clone)]
pub struct Merchant {
    pub staff: Person,
    pub id: Uuid,
    pub products: Vec<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub person: Person,
    pub address_id: Uuid,
    pub card_id: Uuid,
}

#[derive(Debug)]
pub struct City {
    pub api: Api,
    pub merchants: Vec<Merchant>,
    pub couriers: Vec<Person>,
    pub customers: Vec<Customer>,
}

/// A point within `SPREAD_KM` of the centre.
pub(crate) fn place(rng: &mut fastrand::Rng) -> (f64, f64) {
    let km_per_degree_lat = 111.2;
    let km_per_degree_lon = km_per_degree_lat * CENTRE.0.to_radians().cos();
    let (angle, radius) = (
        rng.f64() * std::f64::consts::TAU,
        SPREAD_KM * rng.f64().sqrt(),
    );
    (
        CENTRE.0 + radius * angle.sin() / km_per_degree_lat,
        CENTRE.1 + radius * angle.cos() / km_per_degree_lon,
    )
}

fn id_of(value: &Value) -> anyhow::Result<Uuid> {
    value["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("no id in {value}"))
}

/// Sets up one of a kind of people at each spot, `AT_ONCE` at a time.
async fn all<T, F, Fut>(spots: Vec<(f64, f64)>, one: F) -> anyhow::Result<Vec<T>>
where
    F: Fn(usize, (f64, f64)) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    futures_util::stream::iter(spots.into_iter().enumerate())
        .map(|(n, at)| one(n, at))
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

impl City {
    /// Builds the city described by `args` on the platform at `base` (`…/api/v1`).
    ///
    /// # Errors
    /// The platform refusing a step of the setup.
    pub async fn build(base: &str, args: &SimArgs) -> anyhow::Result<City> {
        let api = Api::new(base);
        let mut rng = fastrand::Rng::with_seed(args.seed);
        // Addresses must be new on every run against the same platform.
        let run = Uuid::now_v7().simple().to_string()[20..].to_owned();
        let spots =
            |n: usize, rng: &mut fastrand::Rng| (0..n).map(|_| place(rng)).collect::<Vec<_>>();
        let (merchant_spots, courier_spots, customer_spots) = (
            spots(args.merchants, &mut rng),
            spots(args.couriers, &mut rng),
            spots(args.customers, &mut rng),
        );
        let merchants = all(merchant_spots, |n, at| merchant(&api, &run, n, at)).await?;
        let couriers = all(courier_spots, |n, at| courier(&api, &run, n, at)).await?;
        let customers = all(customer_spots, |n, at| customer(&api, &run, n, at)).await?;
        Ok(City {
            api,
            merchants,
            couriers,
            customers,
        })
    }
}

async fn sign_up(
    api: &Api,
    run: &str,
    role: &str,
    n: usize,
    at: (f64, f64),
) -> anyhow::Result<Person> {
    let email = format!("{role}-{n}-{run}@sim.ordo.dev");
    let name = format!("Sim {role} {n}");
    let account = json!({"email": email, "password": PASSWORD, "name": name, "role": role});
    api.call(Method::POST, "/auth/register", None, Some(&account), &[])
        .await
        .with_context(|| format!("registering {email}"))?;
    let login = json!({"email": email, "password": PASSWORD});
    let tokens = api
        .call(Method::POST, "/auth/login", None, Some(&login), &[])
        .await
        .with_context(|| format!("logging in {email}"))?;
    let token = tokens["access_token"]
        .as_str()
        .context("no access token")?
        .to_owned();
    Ok(Person { token, at })
}

async fn merchant(api: &Api, run: &str, n: usize, at: (f64, f64)) -> anyhow::Result<Merchant> {
    let staff = sign_up(api, run, "merchant", n, at).await?;
    let token = Some(staff.token.as_str());
    let body = json!({
        "name": format!("Sim Kitchen {n}"), "kind": "restaurant",
        "address": format!("Simstrasse {}", n + 1), "lat": at.0, "lon": at.1,
    });
    let id = id_of(
        &api.call(Method::POST, "/merchants", token, Some(&body), &[])
            .await?,
    )?;
    let mut products = Vec::new();
    for (name, cents) in [("Pizza", 900), ("Salad", 650), ("Lemonade", 300)] {
        let body = json!({"name": name, "category": "Menu", "price": {"amount": cents, "currency": "EUR"}});
        let path = format!("/merchants/{id}/products");
        let product = id_of(
            &api.call(Method::POST, &path, token, Some(&body), &[])
                .await?,
        )?;
        let stock = json!({"on_hand": 1_000_000});
        let path = format!("/products/{product}/stock");
        api.call(Method::PUT, &path, token, Some(&stock), &[])
            .await?;
        products.push(product);
    }
    Ok(Merchant {
        staff,
        id,
        products,
    })
}

pub(crate) async fn courier(
    api: &Api,
    run: &str,
    n: usize,
    at: (f64, f64),
) -> anyhow::Result<Person> {
    let courier = sign_up(api, run, "courier", n, at).await?;
    let token = Some(courier.token.as_str());
    let online = json!({"online": true});
    api.call(
        Method::PUT,
        "/courier/availability",
        token,
        Some(&online),
        &[],
    )
    .await?;
    let position = json!({"lat": at.0, "lon": at.1});
    api.call(
        Method::PUT,
        "/courier/location",
        token,
        Some(&position),
        &[],
    )
    .await?;
    Ok(courier)
}

async fn customer(api: &Api, run: &str, n: usize, at: (f64, f64)) -> anyhow::Result<Customer> {
    let person = sign_up(api, run, "customer", n, at).await?;
    let token = Some(person.token.as_str());
    let address = json!({
        "line1": format!("Kundenweg {}", n + 1), "city": "Berlin", "postal_code": "10115",
        "country": "DE", "lat": at.0, "lon": at.1,
    });
    let address_id = id_of(
        &api.call(Method::POST, "/me/addresses", token, Some(&address), &[])
            .await?,
    )?;
    let card =
        json!({"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"});
    let card_id = id_of(
        &api.call(Method::POST, "/me/payment-methods", token, Some(&card), &[])
            .await?,
    )?;
    Ok(Customer {
        person,
        address_id,
        card_id,
    })
}
