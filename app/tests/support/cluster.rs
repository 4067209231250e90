//! A platform as separate `ordo` processes on loopback ports: each service in processes of
//! its own (as many as asked), gateways in front, sharing PostgreSQL schemas, a NATS stream,
//! Redis keys and a key file of their own. Services start in the registry's order, each told where
//! the ones before it answer; every process is killed when the cluster goes.

use crate::support::{Server, listen, ordo, serving};
use ordo_testkit::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Every service, in the order the registry adds them: each calls only ones before it.
pub const SERVICES: [&str; 11] = [
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

/// How long the gateways have to see every service ready.
const READY_WITHIN: Duration = Duration::from_secs(120);

pub struct Cluster {
    /// The gateways' base URLs.
    pub gateways: Vec<String>,
    /// Each service's processes, with their base URLs.
    pub instances: BTreeMap<&'static str, Vec<(Server, String)>>,
    gateway_servers: Vec<Server>,
    stream: String,
    nats: String,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts `instances[service]` processes of each service (one when absent) and
    /// `gateways` gateways, every one with `settings` in its environment, and waits until
    /// every gateway sees every service ready.
    pub async fn start(
        backend: &Backend,
        nats: &str,
        redis: &str,
        instances: &[(&'static str, usize)],
        gateways: usize,
        settings: &[(&str, &str)],
    ) -> Cluster {
        let Backend::Postgres { schema_prefix, .. } = backend else {
            panic!("a cluster shares PostgreSQL");
        };
        let dir = ordo_testkit::temp_dir();
        let stream = format!("CLUSTER_{schema_prefix}");
        let keys = dir.path().join("keys.json");
        let shared = |command: &mut Command| {
            command
                .env("ORDO_BUS_URL", nats)
                .env("ORDO_BUS__STREAM", &stream)
                .env("ORDO_BUS__SUBJECT_PREFIX", schema_prefix)
                .env("ORDO_REDIS_URL", redis)
                .env("ORDO_REDIS__PREFIX", format!("{schema_prefix}:"))
                .env("ORDO_IDENTITY__KEYS_FILE", &keys)
                // The gateways and the services' callers are on loopback: their
                // X-Forwarded-For names the client.
                .env("ORDO_HTTP__TRUSTED_PROXIES", "127.0.0.1")
                .envs(settings.iter().copied());
        };
        let mut migrate = ordo(backend, dir.path());
        shared(&mut migrate);
        let migrated = migrate.arg("migrate").output().unwrap();
        assert!(migrated.status.success(), "{migrated:?}");

        let mut running: BTreeMap<&'static str, Vec<(Server, String)>> = BTreeMap::new();
        let located = |running: &BTreeMap<&'static str, Vec<(Server, String)>>,
                       command: &mut Command| {
            for (service, at) in running {
                let urls: Vec<&str> = at.iter().map(|(_, url)| url.as_str()).collect();
                command.env(
                    format!("ORDO_SERVICES__{}__URLS", service.to_uppercase()),
                    urls.join(","),
                );
            }
        };
        for service in SERVICES {
            let count = instances
                .iter()
                .find(|(name, _)| *name == service)
                .map_or(1, |(_, n)| *n);
            for i in 0..count {
                let data = dir.path().join(format!("{service}-{i}"));
                std::fs::create_dir_all(&data).unwrap();
                let mut command = ordo(backend, &data);
                shared(&mut command);
                located(&running, &mut command);
                command.env("ORDO_RUN", service);
                let started = listen(command);
                running.entry(service).or_default().push(started);
            }
        }
        let mut gateway_servers = Vec::new();
        let mut gateway_urls = Vec::new();
        for i in 0..gateways {
            let data = dir.path().join(format!("gateway-{i}"));
            std::fs::create_dir_all(&data).unwrap();
            let mut command = ordo(backend, &data);
            shared(&mut command);
            located(&running, &mut command);
            let (server, url) = serving(command, "gateway", "ordo gateway is serving on ");
            gateway_servers.push(server);
            gateway_urls.push(url);
        }
        let cluster = Cluster {
            gateways: gateway_urls,
            instances: running,
            gateway_servers,
            stream,
            nats: nats.to_owned(),
            _dir: dir,
        };
        cluster.until_ready().await;
        cluster
    }

    /// Waits until every gateway sees an instance of every service ready.
    async fn until_ready(&self) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        for gateway in &self.gateways {
            loop {
                let ready = http
                    .get(format!("{gateway}/readyz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    break;
                }
                assert!(
                    started.elapsed() < READY_WITHIN,
                    "the cluster did not become ready"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Kills (SIGKILL) the `n`th process of `service`.
    pub fn kill(&mut self, service: &str, n: usize) {
        let (mut server, _) = self
            .instances
            .get_mut(service)
            .expect("a service")
            .remove(n);
        kill(&mut server);
    }

    /// Kills (SIGKILL) the `n`th gateway; its URL stays in `gateways`, refusing connections.
    pub fn kill_gateway(&mut self, n: usize) {
        kill(&mut self.gateway_servers[n]);
    }

    /// Stops every process, and drops the cluster's stream.
    pub async fn stop(mut self) {
        self.gateway_servers.clear();
        self.instances.clear();
        if let Ok(client) = async_nats::connect(self.nats.as_str()).await {
            let _ = async_nats::jetstream::new(client)
                .delete_stream(&self.stream)
                .await;
        }
    }
}

/// A client of the platform, each request through the next gateway in turn.
pub struct Api {
    pub http: reqwest::Client,
    gateways: Vec<String>,
    next: AtomicUsize,
}

impl Api {
    pub fn new(gateways: Vec<String>) -> Self {
        Api {
            http: reqwest::Client::new(),
            gateways,
            next: AtomicUsize::new(0),
        }
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let gateway = &self.gateways[n % self.gateways.len()];
        let request = self.http.request(method, format!("{gateway}/api/v1{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn json(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{status}: {body}");
        body
    }

    /// A new account of `role`, signed in: its id and access token.
    pub async fn person(&self, role: &str) -> (String, String) {
        let email = format!("{role}-{}@example.com", uuid::Uuid::now_v7().simple());
        let password = "a cluster password";
        let registered = self
            .request(Method::POST, "/auth/register", None)
            .json(&json!({"email": email, "password": password, "name": "Clu Ster", "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        let tokens = self
            .json(
                self.request(Method::POST, "/auth/login", None)
                    .json(&json!({"email": email, "password": password})),
            )
            .await;
        let token = tokens["access_token"].as_str().unwrap().to_owned();
        let me = self
            .json(self.request(Method::GET, "/me", Some(&token)))
            .await;
        (me["id"].as_str().unwrap().to_owned(), token)
    }

    /// The merchant (`owner`) hands `order` to its courier, once the order has heard which
    /// courier took it (an event away).
    pub async fn hand_over(&self, order: &str, owner: &str) {
        self.until("the merchant hands the order over", || async {
            self.request(
                Method::POST,
                &format!("/orders/{order}/picked-up"),
                Some(owner),
            )
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
        })
        .await;
    }

    /// A new customer with a card: their token and the card's id.
    pub async fn customer_with_card(&self) -> (String, String) {
        let (_, customer) = self.person("customer").await;
        let card = self
            .json(
                self.request(Method::POST, "/me/payment-methods", Some(&customer))
                    .json(&json!({"card_number": "4242424242424242", "exp_month": 12,
                                  "exp_year": 2035, "cvc": "123"})),
            )
            .await;
        (customer, card["id"].as_str().unwrap().to_owned())
    }

    /// The status of `order`, as its `customer` reads it.
    pub async fn status(&self, order: &str, customer: &str) -> String {
        let answer = self
            .json(self.request(
                Method::GET,
                &format!("/orders/{order}/status"),
                Some(customer),
            ))
            .await;
        answer["status"].as_str().unwrap_or_default().to_owned()
    }

    /// Waits until `courier` is offered a delivery and takes it: the delivery's id.
    pub async fn take_offer(&self, courier: &str) -> String {
        let offers = || async {
            self.json(self.request(Method::GET, "/courier/offers", Some(courier)))
                .await["items"][0]["id"]
                .as_str()
                .map(str::to_owned)
        };
        self.until("the courier is offered the delivery", || async {
            offers().await.is_some()
        })
        .await;
        let offer = offers().await.unwrap();
        let delivery = self
            .json(self.request(
                Method::POST,
                &format!("/courier/offers/{offer}/accept"),
                Some(courier),
            ))
            .await;
        delivery["id"].as_str().unwrap().to_owned()
    }

    /// The merchant (`owner`) hands the ready `order` over, its `courier` delivers it
    /// (`delivery`), and its `customer` sees it completed.
    pub async fn deliver(&self, order: &str, delivery: &str, people: [&str; 3]) {
        let [owner, courier, customer] = people;
        self.hand_over(order, owner).await;
        self.until("the courier has it picked up", || async {
            self.json(self.request(Method::GET, "/courier/deliveries", Some(courier)))
                .await["items"][0]["status"]
                == "picked_up"
        })
        .await;
        self.json(self.request(
            Method::POST,
            &format!("/deliveries/{delivery}/delivered"),
            Some(courier),
        ))
        .await;
        self.until("the order is completed", || async {
            self.status(order, customer).await == "completed"
        })
        .await;
    }

    /// Asks `check` again until it holds; events cross processes through the broker.
    pub async fn until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        until_within(Duration::from_secs(60), what, check).await;
    }

    /// `customer` orders one `product` for delivery with `card` (idempotency `key`):
    /// the order's id, once it is paid.
    pub async fn paid_order(&self, customer: &str, card: &str, product: &str, key: &str) -> String {
        let order = self
            .json(
                self.request(Method::POST, "/orders", Some(customer))
                    .header("Idempotency-Key", key)
                    .json(&json!({
                        "items": [{"product_id": product, "quantity": 1}],
                        "fulfilment": "delivery",
                        "address": {"line1": "Kastanienallee 77", "city": "Berlin",
                                    "postal_code": "10435", "country": "DE",
                                    "lat": 52.51, "lon": 13.41},
                        "payment_method_id": card,
                    })),
            )
            .await;
        let order = order["id"].as_str().unwrap().to_owned();
        self.until("the order is paid", || async {
            self.status(&order, customer).await == "paid"
        })
        .await;
        order
    }
}

/// Asks `check` again until it holds, for at most `within`.
pub async fn until_within<F, Fut>(within: Duration, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads a live stream on until `text` has come `times` times in what it sends from now.
pub async fn until_seen(stream: &mut reqwest::Response, text: &str, times: usize) {
    let mut seen = String::new();
    let read = async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.matches(text).count() >= times {
                return;
            }
        }
        panic!("the stream ended before {text}: {seen}");
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap_or_else(|_| panic!("{text} did not come {times} times on the stream"));
}

/// Reads a live stream until a message of `kind` comes.
pub async fn told_on(mut stream: reqwest::Response, kind: &str) {
    until_seen(&mut stream, &format!("\"kind\":\"{kind}\""), 1).await;
}

/// Kills the process (SIGKILL): no drain, no goodbye, as a machine lost.
fn kill(server: &mut Server) {
    server.0.kill().unwrap();
    server.0.wait().unwrap();
}

/// A merchant (its owner's token and its id) with a pizza in stock.
pub struct Shop {
    pub owner: String,
    pub merchant_id: String,
    pub pizza: String,
}

impl Shop {
    pub async fn open(api: &Api, stock: i64) -> Shop {
        let (_, owner) = api.person("merchant").await;
        let merchant = api
            .json(
                api.request(Method::POST, "/merchants", Some(&owner))
                    .json(&json!({"name": "Trattoria", "kind": "restaurant",
                                  "address": "Via Roma 1", "lat": 52.5, "lon": 13.4})),
            )
            .await;
        let merchant_id = merchant["id"].as_str().unwrap().to_owned();
        let pizza = api
            .json(
                api.request(
                    Method::POST,
                    &format!("/merchants/{merchant_id}/products"),
                    Some(&owner),
                )
                .json(&json!({"name": "Margherita", "category": "Menu",
                              "price": {"amount": 950, "currency": "EUR"}})),
            )
            .await;
        let pizza = pizza["id"].as_str().unwrap().to_owned();
        api.json(
            api.request(
                Method::PUT,
                &format!("/products/{pizza}/stock"),
                Some(&owner),
            )
            .json(&json!({"on_hand": stock})),
        )
        .await;
        Shop {
            owner,
            merchant_id,
            pizza,
        }
    }
}
