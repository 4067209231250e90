//! `ordo sim`: a whole city driving the platform through its public API, as its apps would.
//! Customers order at a Poisson rate, merchants accept and mark ready after a while,
//! couriers go online, take offers, ride in straight lines sending positions, pick up and
//! deliver. A progress line while it runs; at the end, what became of the orders, how long
//! each stage took (p50/p90/p99) and the errors by status code, printed and written as JSON.
//! Against `--target` it drives a running platform; without, one it starts in this process.

pub(crate) mod city;
mod people;
mod stats;

use crate::config::Config;
use crate::platform::Platform;
use anyhow::Context;
use city::City;
use stats::Stats;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    #[arg(long, default_value_t = 200)]
    pub customers: usize,
    #[arg(long, default_value_t = 20)]
    pub merchants: usize,
    #[arg(long, default_value_t = 100)]
    pub couriers: usize,
    /// Orders per second, on average (Poisson arrivals), e.g. `5` or `5/s`.
    #[arg(long, default_value = "2/s", value_parser = parse_rate)]
    pub rate: f64,
    /// How long orders arrive, e.g. `60s`, `5m`; the orders under way are then followed to
    /// their end (at most two minutes more).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// A running platform's address (`http://host:port`); without it the platform runs in
    /// this process, embedded, on a fresh data dir. Its rate limits must allow the city.
    #[arg(long)]
    pub target: Option<String>,
    /// Same seed, same city and the same arrival schedule.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How fast couriers ride, km/h: the city runs faster than life so that a minute shows
    /// whole deliveries (the embedded platform's plausibility limit is raised to match).
    #[arg(long, default_value_t = 600.0)]
    pub courier_kmh: f64,
    #[arg(long, default_value = "target/sim/summary.json")]
    pub json: PathBuf,
    /// Append each order the platform acknowledged (answered 201) to this file as it comes,
    /// one JSON line `{"id": …, "at_ms": …}` (Unix milliseconds): what a failover drill
    /// checks survived.
    #[arg(long)]
    pub acknowledged: Option<PathBuf>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches("/s");
    match number.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 100_000.0 => Ok(rate),
        _ => Err("a rate of orders per second, above 0, e.g. 5/s".into()),
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| "a duration such as 60s, 5m or 1h".to_owned())?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err("a duration such as 60s, 5m or 1h".into()),
    };
    if seconds == 0 {
        return Err("the duration must be above zero".into());
    }
    Ok(Duration::from_secs(seconds))
}

/// How long the orders under way are followed once arrivals stop.
const FOLLOW_UP: Duration = Duration::from_secs(120);

/// Runs the simulation and prints its summary.
///
/// # Errors
/// The platform cannot be started or reached, or the city cannot be built.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.customers > 0 && args.merchants > 0 && args.couriers > 0,
        "--customers, --merchants and --couriers must be positive"
    );
    anyhow::ensure!(
        args.courier_kmh > 0.0 && args.courier_kmh <= 1000.0,
        "--courier-kmh must be above 0 and at most 1000"
    );
    let acknowledged = args
        .acknowledged
        .as_ref()
        .map(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("--acknowledged {}", path.display()))
        })
        .transpose()?;
    let dir = tempfile::Builder::new().prefix("ordo-sim-").tempdir()?;
    let running = match &args.target {
        Some(_) => None,
        None => Some(
            Platform::start(embedded(&dir, args.courier_kmh))
                .await
                .context("starting the platform")?,
        ),
    };
    let base = match (&args.target, &running) {
        (Some(target), _) => format!("{}/api/v1", target.trim_end_matches('/')),
        (None, Some(running)) => format!("http://{}/api/v1", running.address),
        (None, None) => unreachable!("the platform was started above"),
    };
    if let Some(running) = &running {
        // Where to watch it meanwhile: its apps, and /metrics for a Prometheus.
        println!("the platform serves http://{}", running.address);
    }
    println!(
        "building the city: {} merchants, {} couriers, {} customers",
        args.merchants, args.couriers, args.customers
    );
    let city = Arc::new(City::build(&base, &args).await?);
    let stats = Arc::new(Stats::default());
    println!(
        "running {} s at {} orders/s (seed {})",
        args.duration.as_secs(),
        args.rate,
        args.seed
    );
    people::run(
        city.clone(),
        stats.clone(),
        &args,
        acknowledged,
        args.duration,
        FOLLOW_UP,
        true,
    )
    .await;
    let summary = stats.summary(&args, city.api.retried());
    println!("\n{}", summary.table());
    summary.write(&args.json)?;
    if let Some(running) = running {
        running.stop().await?;
    }
    Ok(())
}

/// A gentle city beside `ordo serve --demo --sim`, so that a fresh install has something
/// alive to look at: a few people ordering now and then, until the server stops. The
/// couriers ride fast enough to keep up (an order every 40 s, each trip a few minutes), so
/// that the operators' map shows a city that works rather than a growing queue.
pub async fn gentle(address: std::net::SocketAddr) {
    let args = SimArgs {
        customers: 8,
        merchants: 3,
        couriers: 6,
        rate: 0.025,
        duration: Duration::from_secs(365 * 24 * 3600),
        target: Some(format!("http://{address}")),
        seed: 1,
        courier_kmh: 100.0,
        json: PathBuf::new(),
        acknowledged: None,
    };
    let base = format!("http://{address}/api/v1");
    match City::build(&base, &args).await {
        Ok(city) => {
            tracing::info!("the simulated city is running");
            let stats = Arc::new(Stats::default());
            people::run(
                Arc::new(city),
                stats,
                &args,
                None,
                args.duration,
                FOLLOW_UP,
                false,
            )
            .await;
        }
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "the simulated city could not be built")
        }
    }
}

/// The embedded platform the simulation drives: a benchmark's, with couriers allowed the
/// simulated speed.
fn embedded(dir: &tempfile::TempDir, courier_kmh: f64) -> Config {
    let mut config = crate::bench::embedded(dir.path());
    config.delivery.max_speed_kmh = (courier_kmh * 2.0).min(1000.0);
    config.delivery.courier_speed_kmh = courier_kmh;
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_durations_read_as_people_write_them() {
        assert_eq!(parse_rate("5/s"), Ok(5.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").is_err());
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1d").is_err());
    }
}
