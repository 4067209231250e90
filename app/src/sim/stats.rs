//! What the simulation saw: orders through each stage, how long each stage took, errors.

use super::SimArgs;
use crate::bench::Report;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;
use uuid::Uuid;

/// The stages of a delivery order after it is placed, each timed from the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Paid,
    Accepted,
    Assigned,
    PickedUp,
    Delivered,
}

impl Stage {
    const ALL: [Stage; 5] = [
        Stage::Paid,
        Stage::Accepted,
        Stage::Assigned,
        Stage::PickedUp,
        Stage::Delivered,
    ];

    fn name(self) -> &'static str {
        match self {
            Stage::Paid => "placed -> paid",
            Stage::Accepted => "paid -> accepted",
            Stage::Assigned => "accepted -> assigned",
            Stage::PickedUp => "assigned -> picked up",
            Stage::Delivered => "picked up -> delivered",
        }
    }

    fn last_reached(self) -> &'static str {
        match self {
            Stage::Paid => "paid",
            Stage::Accepted => "accepted",
            Stage::Assigned => "assigned",
            Stage::PickedUp => "picked_up",
            Stage::Delivered => "delivered",
        }
    }
}

struct Journey {
    placed: Instant,
    last: Instant,
    reached: Option<Stage>,
}

struct Inner {
    journeys: HashMap<Uuid, Journey>,
    stages: Vec<Histogram<u64>>,
    total: Histogram<u64>,
    placed: u64,
    delivered: u64,
    refused: u64,
    races: u64,
    errors: BTreeMap<u16, u64>,
}

pub struct Stats {
    inner: Mutex<Inner>,
    started: Instant,
}

fn histogram() -> Histogram<u64> {
    // Milliseconds up to an hour, three significant figures: bounds that are always valid.
    Histogram::new_with_bounds(1, 3_600_000, 3).expect("valid histogram bounds")
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            inner: Mutex::new(Inner {
                journeys: HashMap::new(),
                stages: Stage::ALL.iter().map(|_| histogram()).collect(),
                total: histogram(),
                placed: 0,
                delivered: 0,
                refused: 0,
                races: 0,
                errors: BTreeMap::new(),
            }),
            started: Instant::now(),
        }
    }
}

/// Counters for the progress line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub placed: u64,
    pub delivered: u64,
    pub refused: u64,
}

impl Progress {
    pub fn in_flight(self) -> u64 {
        self.placed.saturating_sub(self.delivered)
    }
}

impl Stats {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn placed(&self, order: Uuid) {
        let now = Instant::now();
        let mut inner = self.inner();
        inner.placed += 1;
        inner.journeys.insert(
            order,
            Journey {
                placed: now,
                last: now,
                reached: None,
            },
        );
    }

    /// The order reached `stage`; counted once, in order.
    pub fn reached(&self, order: Uuid, stage: Stage) {
        let now = Instant::now();
        let mut inner = self.inner();
        let Some(journey) = inner.journeys.get_mut(&order) else {
            return;
        };
        let index = Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0);
        let before = journey
            .reached
            .and_then(|r| Stage::ALL.iter().position(|s| *s == r));
        if before.is_some_and(|b| b >= index) {
            return;
        }
        let took = millis(now - journey.last);
        let total = millis(now - journey.placed);
        journey.last = now;
        journey.reached = Some(stage);
        let _ = inner.stages[index].record(took);
        if stage == Stage::Delivered {
            inner.delivered += 1;
            let _ = inner.total.record(total);
        }
    }

    /// A checkout the platform refused.
    pub fn refused(&self) {
        self.inner().refused += 1;
    }

    /// A courier lost an offer to another: expected, not an error.
    pub fn race(&self) {
        self.inner().races += 1;
    }

    pub fn error(&self, status: u16) {
        *self.inner().errors.entry(status).or_default() += 1;
    }

    pub fn progress(&self) -> Progress {
        let inner = self.inner();
        Progress {
            placed: inner.placed,
            delivered: inner.delivered,
            refused: inner.refused,
        }
    }

    /// What became of the orders; `retried` requests were answered 503 and sent again.
    pub fn summary(&self, args: &SimArgs, retried: u64) -> Summary {
        let inner = self.inner();
        let seconds = self.started.elapsed().as_secs_f64();
        let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
        for journey in inner.journeys.values() {
            let reached = journey.reached.map_or("placed", Stage::last_reached);
            *outcomes.entry(reached.to_owned()).or_default() += 1;
        }
        if inner.refused > 0 {
            outcomes.insert("refused at checkout".into(), inner.refused);
        }
        let row = |name: &str, h: &Histogram<u64>| StageRow {
            stage: name.to_owned(),
            count: h.len(),
            p50_ms: h.value_at_quantile(0.5),
            p90_ms: h.value_at_quantile(0.9),
            p99_ms: h.value_at_quantile(0.99),
        };
        let mut stages: Vec<StageRow> = Stage::ALL
            .iter()
            .zip(&inner.stages)
            .map(|(stage, h)| row(stage.name(), h))
            .collect();
        stages.push(row("placed -> delivered", &inner.total));
        Summary {
            customers: args.customers,
            merchants: args.merchants,
            couriers: args.couriers,
            rate: args.rate,
            seed: args.seed,
            seconds,
            placed: inner.placed,
            delivered: inner.delivered,
            delivered_per_sec: inner.delivered as f64 / seconds.max(0.001),
            outcomes,
            stages,
            offer_races_lost: inner.races,
            retried_after_503: retried,
            errors_by_status: inner
                .errors
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[derive(Debug, Serialize)]
pub struct StageRow {
    stage: String,
    count: u64,
    p50_ms: u64,
    p90_ms: u64,
    p99_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    customers: usize,
    merchants: usize,
    couriers: usize,
    rate: f64,
    seed: u64,
    seconds: f64,
    placed: u64,
    delivered: u64,
    delivered_per_sec: f64,
    /// Orders by the last stage they reached.
    outcomes: BTreeMap<String, u64>,
    stages: Vec<StageRow>,
    offer_races_lost: u64,
    /// Requests answered 503 and sent again (each a 5xx the platform answered).
    retried_after_503: u64,
    /// Requests refused in the end, by status.
    errors_by_status: BTreeMap<String, u64>,
}

impl Summary {
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} orders placed, {} delivered in {:.0} s ({:.1}/s)\n\nby last stage reached:\n",
            self.placed, self.delivered, self.seconds, self.delivered_per_sec
        );
        for (outcome, count) in &self.outcomes {
            out.push_str(&format!("  {outcome:<22} {count}\n"));
        }
        out.push_str(&format!(
            "\n{:<24} {:>7} {:>9} {:>9} {:>9}\n",
            "stage", "count", "p50 ms", "p90 ms", "p99 ms"
        ));
        for row in &self.stages {
            out.push_str(&format!(
                "{:<24} {:>7} {:>9} {:>9} {:>9}\n",
                row.stage, row.count, row.p50_ms, row.p90_ms, row.p99_ms
            ));
        }
        out.push_str(&format!(
            "\noffers lost to another courier: {}\nrequests answered 503 and sent again: {}\nerrors by status: {}\n",
            self.offer_races_lost,
            self.retried_after_503,
            if self.errors_by_status.is_empty() {
                "none".to_owned()
            } else {
                self.errors_by_status
                    .iter()
                    .map(|(status, n)| format!("{status}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        out
    }

    /// Writes the summary as JSON, with the machine it ran on.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(self, path: &Path) -> anyhow::Result<()> {
        Report::new(vec![self]).write(path)
    }
}
