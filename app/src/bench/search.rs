//! `ordo bench search`: search over a large catalogue. Starts the platform in this process
//! (SQLite, in-process bus), feeds search `--products` products of `--merchants` merchants
//! spread over a city through the use cases its consumer calls, and times the index taking
//! them all as changes, then a rebuild. Then `--clients` clients search over HTTP for
//! `--seconds` each: two words with a radius and facets, the same misspelt, a category near
//! a point by distance, and type-ahead, beside the HTTP ceiling of the same run. Last, a
//! product renamed through the catalogue's API is timed until search finds it by its new
//! name, `--changes` times.

use super::shop::{ceiling_server, setup};
use super::{Report, hammer};
use crate::platform::Platform;
use anyhow::Context;
use ordo_contracts::catalog::{MerchantSnapshot, ProductSnapshot};
use ordo_kernel::Money;
use ordo_search::Search;
use serde::Serialize;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct SearchBench {
    /// Products in the catalogue.
    #[arg(long, default_value_t = 100_000)]
    products: usize,
    /// Merchants they belong to.
    #[arg(long, default_value_t = 2_000)]
    merchants: usize,
    /// Concurrent searchers.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long each kind of search runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Catalogue changes timed until searchable.
    #[arg(long, default_value_t = 20)]
    changes: usize,
    #[arg(long, default_value = "target/bench/search.json")]
    json: PathBuf,
}

const CENTER: (f64, f64) = (52.52, 13.405);
const DISHES: [&str; 24] = [
    "pizza",
    "pasta",
    "burger",
    "salad",
    "soup",
    "curry",
    "ramen",
    "sushi",
    "taco",
    "burrito",
    "kebab",
    "falafel",
    "risotto",
    "lasagna",
    "noodles",
    "dumplings",
    "pancakes",
    "waffles",
    "sandwich",
    "bagel",
    "steak",
    "paella",
    "gnocchi",
    "tiramisu",
];
const STYLES: [&str; 16] = [
    "spicy", "vegan", "classic", "smoked", "crispy", "creamy", "grilled", "roasted", "garlic",
    "truffle", "lemon", "chili", "cheese", "mushroom", "tomato", "honey",
];
const CATEGORIES: [&str; 12] = [
    "Pizza",
    "Pasta",
    "Burgers",
    "Salads",
    "Soups",
    "Asian",
    "Mexican",
    "Middle Eastern",
    "Breakfast",
    "Sandwiches",
    "Grill",
    "Desserts",
];
const TAGS: [&str; 8] = [
    "vegetarian",
    "vegan",
    "gluten-free",
    "spicy",
    "halal",
    "organic",
    "new",
    "popular",
];
/// Rows per transaction while feeding.
const FEED_BATCH: usize = 2_000;

fn pick<'a>(rng: &mut fastrand::Rng, from: &[&'a str]) -> &'a str {
    from[rng.usize(..from.len())]
}

/// A point within `km` of the centre (roughly uniform over the square around it).
fn point(rng: &mut fastrand::Rng, km: f64) -> (f64, f64) {
    let dlat = km / 111.0;
    let dlon = km / (111.0 * CENTER.0.to_radians().cos());
    (
        CENTER.0 + (rng.f64() * 2.0 - 1.0) * dlat,
        CENTER.1 + (rng.f64() * 2.0 - 1.0) * dlon,
    )
}

#[derive(Debug, Serialize)]
struct Built {
    products: usize,
    merchants: usize,
    documents: u64,
    /// After the changes were taken, and after the rebuild.
    segments: (usize, usize),
    /// Mean matches of a two-word search.
    two_word_matches: f64,
    feed_seconds: f64,
    as_changes_seconds: f64,
    rebuild_seconds: f64,
}

#[derive(Debug, Serialize)]
struct Freshness {
    changes: usize,
    p50_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct SearchReport {
    #[serde(flatten)]
    report: Report<super::ScenarioRow>,
    built: Built,
    freshness: Freshness,
}

/// Runs the benchmark.
///
/// # Errors
/// The platform cannot be started, fed or searched.
pub async fn run(args: SearchBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.products > 0 && args.merchants > 0 && args.clients > 0 && args.seconds > 0,
        "--products, --merchants, --clients and --seconds must be positive"
    );
    let dir = tempfile::Builder::new().prefix("ordo-bench-").tempdir()?;
    let running = Platform::start(super::embedded(dir.path()))
        .await
        .context("starting the platform")?;
    let search = running.service::<Search>()?;
    let db = running.databases["search"].clone();
    let mut rng = fastrand::Rng::with_seed(7);

    let started = Instant::now();
    let merchants: Vec<MerchantSnapshot> = (0..args.merchants)
        .map(|n| {
            let (lat, lon) = point(&mut rng, 15.0);
            MerchantSnapshot {
                merchant_id: ordo_kernel::new_id(),
                name: format!(
                    "{} {} {n}",
                    pick(&mut rng, &STYLES),
                    pick(&mut rng, &DISHES)
                ),
                kind: if n % 4 == 0 { "shop" } else { "restaurant" }.into(),
                address: format!("Street {n}"),
                lat,
                lon,
                opening_hours: Vec::new(),
                staff: Vec::new(),
            }
        })
        .collect();
    for chunk in merchants.chunks(FEED_BATCH) {
        let mut tx = db.begin().await?;
        for merchant in chunk {
            search
                .merchant_changed(&mut tx, merchant)
                .await
                .map_err(anyhow::Error::new)?;
        }
        tx.commit().await?;
    }
    let mut fed = 0;
    while fed < args.products {
        let mut tx = db.begin().await?;
        for n in fed..(fed + FEED_BATCH).min(args.products) {
            let (style, dish) = (pick(&mut rng, &STYLES), pick(&mut rng, &DISHES));
            let product = ProductSnapshot {
                product_id: ordo_kernel::new_id(),
                merchant_id: merchants[n % merchants.len()].merchant_id,
                name: format!("{style} {dish}"),
                description: format!(
                    "A {} {dish} with {} and {}",
                    pick(&mut rng, &STYLES),
                    pick(&mut rng, &STYLES),
                    pick(&mut rng, &DISHES)
                ),
                category: pick(&mut rng, &CATEGORIES).into(),
                price: Money {
                    amount: 300 + i64::try_from(rng.usize(..4_000))?,
                    currency: "EUR".into(),
                },
                sku: None,
                tags: vec![pick(&mut rng, &TAGS).into()],
                active: true,
            };
            search
                .product_changed(&mut tx, &product)
                .await
                .map_err(anyhow::Error::new)?;
        }
        tx.commit().await?;
        fed = (fed + FEED_BATCH).min(args.products);
        print!("\rfeeding: {fed} products");
    }
    let feed_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    search.catch_up().await.map_err(anyhow::Error::new)?;
    let as_changes_seconds = started.elapsed().as_secs_f64();
    let changed_segments = search.segments();
    let started = Instant::now();
    search.rebuild().await.map_err(anyhow::Error::new)?;
    let rebuild_seconds = started.elapsed().as_secs_f64();
    let documents = search.indexed();
    let segments = (changed_segments, search.segments());
    println!(
        "\rfed {} products of {} merchants in {feed_seconds:.1} s; indexed as changes in {as_changes_seconds:.1} s, rebuilt in {rebuild_seconds:.1} s ({documents} documents)",
        args.products, args.merchants
    );

    let base = format!("http://{}/api/v1", running.address);
    let client = reqwest::Client::new();
    let queries = |rng: &mut fastrand::Rng, typo: bool| -> Vec<String> {
        (0..200)
            .map(|_| {
                let (lat, lon) = point(rng, 10.0);
                let mut dish = pick(rng, &DISHES).to_owned();
                if typo && dish.len() > 4 {
                    dish.remove(2);
                }
                format!(
                    "{base}/search?q={}+{dish}&near={lat:.4},{lon:.4}&radius_km=5",
                    pick(rng, &STYLES)
                )
            })
            .collect()
    };
    let two_words = queries(&mut rng, false);
    let misspelt = queries(&mut rng, true);
    let browse: Vec<String> = (0..200)
        .map(|_| {
            let (lat, lon) = point(&mut rng, 10.0);
            format!(
                "{base}/search?category={}&near={lat:.4},{lon:.4}&radius_km=3&sort=distance",
                pick(&mut rng, &CATEGORIES)
            )
        })
        .collect();
    let suggest: Vec<String> = (0..200)
        .map(|_| {
            let dish = pick(&mut rng, &DISHES);
            format!(
                "{base}/search/suggest?q={}+{}",
                pick(&mut rng, &STYLES),
                &dish[..3]
            )
        })
        .collect();
    let mut matches = 0;
    for url in &two_words {
        let page: Value = client.get(url).send().await?.json().await?;
        anyhow::ensure!(
            page["facets"]["category"].is_array(),
            "a search page: {page}"
        );
        matches += page["total"].as_u64().context("a total")?;
    }
    let two_word_matches = matches as f64 / two_words.len() as f64;

    let (ceiling, ceiling_task) = ceiling_server().await?;
    let echo = vec![format!("http://{ceiling}/echo")];
    let mut measured = Vec::new();
    for (label, urls) in [
        ("http", echo),
        ("2 words", two_words),
        ("misspelt", misspelt),
        ("browse", browse),
        ("suggest", suggest),
    ] {
        let urls = Arc::new(urls);
        let started = Instant::now();
        let reader = client.clone();
        let load = hammer(label, args.clients, args.seconds, move |c, n| {
            let (reader, urls) = (reader.clone(), urls.clone());
            async move {
                let url = &urls[(c * 31 + usize::try_from(n).unwrap_or(0)) % urls.len()];
                let request = if label == "http" {
                    reader.post(url).json(&json!({"q": "spicy pizza"}))
                } else {
                    reader.get(url)
                };
                request.send().await.is_ok_and(|r| r.status().is_success())
            }
        })
        .await?;
        measured.push((label, load, started.elapsed().as_secs_f64()));
    }
    ceiling_task.abort();

    let freshness = freshness(&client, &base, args.changes).await?;
    running.stop().await?;

    let report = SearchReport {
        report: Report::new(super::scenario_rows(&measured, args.clients)),
        built: Built {
            products: args.products,
            merchants: args.merchants,
            documents,
            segments,
            two_word_matches,
            feed_seconds,
            as_changes_seconds,
            rebuild_seconds,
        },
        freshness,
    };
    super::print_scenarios("search", &report.report);
    println!(
        "catalogue: {} products of {} merchants ({} documents); rebuilt in {:.1} s ({} segment), as changes in {:.1} s ({} segments); a two-word search matches {:.0} on average",
        args.products,
        args.merchants,
        documents,
        rebuild_seconds,
        segments.1,
        as_changes_seconds,
        segments.0,
        two_word_matches
    );
    println!(
        "a product renamed is found by its new name: median {:.0} ms, max {:.0} ms over {} changes",
        report.freshness.p50_ms, report.freshness.max_ms, report.freshness.changes
    );
    if let Some(dir) = args.json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.json, serde_json::to_vec_pretty(&report)?)?;
    println!("\nwritten to {}", args.json.display());
    Ok(())
}

/// Renames a real product through the catalogue's API `changes` times, each time timing
/// until a search for the new name finds it.
async fn freshness(
    client: &reqwest::Client,
    base: &str,
    changes: usize,
) -> anyhow::Result<Freshness> {
    let shop = setup(client, base, 0, (1, 1), 1).await?;
    let mut took = Vec::with_capacity(changes);
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..changes {
        // Random letters: no name is within a typo of the one before.
        let name: String = (0..12).map(|_| rng.lowercase()).collect();
        let started = Instant::now();
        let renamed = client
            .patch(format!("{base}/products/{}", shop.product()))
            .bearer_auth(&shop.owner)
            .json(&json!({"name": name}))
            .send()
            .await?;
        anyhow::ensure!(
            renamed.status().is_success(),
            "renaming: {}",
            renamed.status()
        );
        let url = format!("{base}/search?q={name}");
        loop {
            let page: Value = client.get(&url).send().await?.json().await?;
            if page["total"].as_u64() > Some(0) {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "{name} not searchable after 30 s"
            );
            tokio::task::yield_now().await;
        }
        took.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    took.sort_by(f64::total_cmp);
    Ok(Freshness {
        changes,
        p50_ms: took.get(took.len() / 2).copied().unwrap_or(0.0),
        max_ms: took.last().copied().unwrap_or(0.0),
    })
}
