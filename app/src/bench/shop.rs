//! What the HTTP loads run against, made through the public API as a client would: a
//! merchant with products in stock and customers with cards; placing an order; and the
//! ceiling every load is set beside, a trivial JSON handler on this binary's HTTP stack.

use anyhow::Context;
use serde_json::{Value, json};
use uuid::Uuid;

/// A trivial JSON handler on this binary's HTTP stack: the ceiling of any endpoint.
pub async fn ceiling_server() -> anyhow::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>
{
    async fn echo(axum::Json(body): axum::Json<Value>) -> axum::Json<Value> {
        axum::Json(json!({"received": body}))
    }
    let router = axum::Router::new().route("/echo", axum::routing::post(echo));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::warn!(%error, "the ceiling server stopped");
        }
    });
    Ok((address, task))
}

/// Places one order as `customer`; its id when it was created.
pub async fn place(
    client: &reqwest::Client,
    base: &str,
    product: &str,
    customer: &(String, String),
    key: String,
) -> Option<Uuid> {
    let (token, method) = customer;
    let body = json!({"items": [{"product_id": product, "quantity": 1}], "fulfilment": "pickup", "payment_method_id": method});
    let response = client
        .post(format!("{base}/orders"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .ok()?;
    if response.status() != reqwest::StatusCode::CREATED {
        return None;
    }
    let order: Value = response.json().await.ok()?;
    order["id"].as_str()?.parse().ok()
}

/// How many of `orders` (each with its customer's token) the platform at `base` serves to
/// their customers: after a restore, which acknowledged orders came back.
pub async fn served(client: &reqwest::Client, base: &str, orders: &[(Uuid, String)]) -> usize {
    let mut found = 0;
    for (order, token) in orders {
        let answer = client
            .get(format!("{base}/orders/{order}"))
            .bearer_auth(token)
            .send()
            .await;
        found += usize::from(answer.is_ok_and(|a| a.status() == reqwest::StatusCode::OK));
    }
    found
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> anyhow::Result<Value> {
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "{url}: {status} {body}");
    Ok(body)
}

/// A signed-up, logged-in user's access token.
async fn user(
    client: &reqwest::Client,
    base: &str,
    role: &str,
    n: usize,
) -> anyhow::Result<String> {
    // Unique per run: a benchmark may run again against the same platform.
    let email = format!("{role}-{n}-{}@bench.ordo.dev", Uuid::now_v7().simple());
    let password = "a benchmark password";
    post(
        client,
        &format!("{base}/auth/register"),
        None,
        &json!({"email": email, "password": password, "name": "Bench", "role": role}),
    )
    .await?;
    let login = post(
        client,
        &format!("{base}/auth/login"),
        None,
        &json!({"email": email, "password": password}),
    )
    .await?;
    login["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token")
}

/// What a load runs against: a merchant (and its owner's token), its products (at least
/// one), and customers with a card each (token, card id).
pub struct Shop {
    pub owner: String,
    pub merchant: String,
    pub products: Vec<String>,
    pub customers: Vec<(String, String)>,
}

impl Shop {
    /// The first product: the one a load of one product uses.
    pub fn product(&self) -> &str {
        &self.products[0]
    }
}

/// A merchant with `products` products (at least one) and `stock` of each (units, in so many
/// slots), and one customer with a card per client.
pub async fn setup(
    client: &reqwest::Client,
    base: &str,
    clients: usize,
    (stock, slots): (u64, u64),
    products: usize,
) -> anyhow::Result<Shop> {
    let owner = user(client, base, "merchant", 0).await?;
    let merchant = post(
        client,
        &format!("{base}/merchants"),
        Some(&owner),
        &json!({"name": "Bench Bistro", "kind": "restaurant", "address": "Benchstraße 1", "lat": 52.5, "lon": 13.4}),
    )
    .await?;
    let merchant = merchant["id"].as_str().context("merchant id")?.to_owned();
    let mut made = Vec::with_capacity(products.max(1));
    for n in 0..products.max(1) {
        let name = if n == 0 {
            "Soup".to_owned()
        } else {
            format!("Soup {n}")
        };
        let product = post(
            client,
            &format!("{base}/merchants/{merchant}/products"),
            Some(&owner),
            &json!({"name": name, "category": "Soups", "price": {"amount": 500, "currency": "EUR"}}),
        )
        .await?;
        let product = product["id"].as_str().context("product id")?.to_owned();
        let stocked = client
            .put(format!("{base}/products/{product}/stock"))
            .bearer_auth(&owner)
            .json(&json!({"on_hand": stock, "slots": slots}))
            .send()
            .await?;
        anyhow::ensure!(
            stocked.status().is_success(),
            "setting stock: {}",
            stocked.status()
        );
        made.push(product);
    }
    let mut customers = Vec::with_capacity(clients);
    for n in 0..clients {
        let token = user(client, base, "customer", n).await?;
        let card = post(
            client,
            &format!("{base}/me/payment-methods"),
            Some(&token),
            &json!({"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}),
        )
        .await?;
        let method = card["id"].as_str().context("card id")?.to_owned();
        customers.push((token, method));
    }
    Ok(Shop {
        owner,
        merchant,
        products: made,
        customers,
    })
}
