//! Dispatch never forgets a delivery, as a property over random histories on both
//! backends: couriers come online and leave, move into and out of range, decline offers or
//! let them expire, on a clock the test drives. After every round of the dispatch sweep:
//! - a delivery with nobody asked has no courier left to ask: every idle online courier in
//!   range let one of its offers pass less than `reoffer_after_secs` ago — so no delivery
//!   waits longer than `offer_secs + reoffer_after_secs` while such a courier is there;
//! - nobody holds two open offers for one delivery;
//! - a courier is asked again only when every courier in range never asked was asked too.
//!
//! With a Redis, the same histories run on two instances sharing one fleet in it, each step
//! and each sweep taken by either.

use crate::domain::{self, DeliveryStatus, OfferStatus, Stop};
use crate::{Delivery, DeliveryConfig, store};
use ordo_bus::{EventMeta, Outbox};
use ordo_contracts::ClientFuture;
use ordo_contracts::catalog::{CatalogClient, MerchantSnapshot, ProductSnapshot};
use ordo_contracts::identity::{Contact, IdentityClient};
use ordo_http::ratelimit::Quota;
use ordo_kernel::PostalAddress;
use ordo_kernel::trace::TraceContext;
use ordo_kernel::{Caller, Money, Role};
use ordo_testkit::{Backend, backend_test};
use std::collections::{HashMap, HashSet};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const SHOP: (f64, f64) = (52.5200, 13.4050);
const COURIERS: usize = 5;
const DELIVERIES: usize = 2;
const STEPS: usize = 70;
const OFFER_SECS: u64 = 3;
const REOFFER_SECS: u64 = 7;
const RADIUS_KM: f64 = 8.0;

/// Neither is asked: the deliveries are made by the test.
struct Nobody;

impl CatalogClient for Nobody {
    fn products<'a>(&'a self, _: &'a [Uuid]) -> ClientFuture<'a, Vec<ProductSnapshot>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn merchant(&self, _: Uuid) -> ClientFuture<'_, Option<MerchantSnapshot>> {
        Box::pin(async { Ok(None) })
    }

    fn find_merchants<'a>(&'a self, _: &'a str, _: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

impl IdentityClient for Nobody {
    fn contact(&self, _: Uuid) -> ClientFuture<'_, Option<Contact>> {
        Box::pin(async { Ok(None) })
    }

    fn address(&self, _: Uuid, _: Uuid) -> ClientFuture<'_, Option<PostalAddress>> {
        Box::pin(async { Ok(None) })
    }

    fn administrators(&self) -> ClientFuture<'_, Vec<Uuid>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn find_users<'a>(&'a self, _: &'a str, _: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A courier as the test means it to be.
#[derive(Debug, Clone, Copy)]
struct Model {
    online: bool,
    in_range: bool,
    /// Has reported a position since coming online.
    located: bool,
}

fn place(in_range: bool, n: usize) -> (f64, f64) {
    // In range: about 1 km from the shop; out: about 22 km. Each courier a little apart.
    let north = if in_range { 0.01 } else { 0.2 };
    (SHOP.0 + north, SHOP.1 + 0.001 * n as f64)
}

fn waiting(now: OffsetDateTime) -> domain::Delivery {
    let stop = |name: &str, (lat, lon): (f64, f64)| Stop {
        name: name.to_owned(),
        address: format!("{name} street 1"),
        lat,
        lon,
    };
    domain::Delivery {
        id: Uuid::new_v4(),
        order_id: Uuid::new_v4(),
        merchant_id: Uuid::new_v4(),
        customer_id: Uuid::new_v4(),
        status: DeliveryStatus::Searching,
        courier_id: None,
        pickup: stop("Shop", SHOP),
        pickup_cell: String::new(),
        drop_off: stop("Home", (SHOP.0 - 0.01, SHOP.1)),
        searching_since: now,
        escalated_at: None,
        assigned_at: None,
        picked_up_at: None,
        delivered_at: None,
        created_at: now,
        payout: Money {
            amount: 300,
            currency: "EUR".into(),
        },
        search_radius_km: None,
        redispatched_at: None,
    }
}

async fn never_forgotten(backend: Backend) {
    for seed in [7_u64, 23, 1_000_003] {
        history(&backend, seed, None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_dispatch_from_one_fleet_in_redis() {
    let Some(url) = ordo_testkit::redis("two_instances_dispatch_from_one_fleet_in_redis") else {
        return;
    };
    for seed in [7_u64, 23, 1_000_003] {
        history(&Backend::Sqlite, seed, Some(&url)).await;
    }
}

/// One history from `seed`, with its own couriers and deliveries (the PostgreSQL schema is
/// the test's, shared by its histories); on two instances sharing a fleet in `redis`, when
/// given.
async fn history(backend: &Backend, seed: u64, redis: Option<&str>) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "delivery").await;
    db.migrate(crate::migrations()).await.unwrap();
    db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
        .await
        .unwrap();
    let config = DeliveryConfig {
        offer_batch: 2,
        offer_secs: OFFER_SECS,
        reoffer_after_secs: REOFFER_SECS,
        max_radius_km: RADIUS_KM,
        unassigned_after_secs: 86_400,
        // The test's clock runs far faster than the reports' own: no move is too fast.
        max_speed_kmh: 1e9,
        location_limit: Quota::new(1_000_000, 1_000_000),
        ..DeliveryConfig::default()
    };
    let nobody = std::sync::Arc::new(Nobody);
    let prefix = format!("{}:", ordo_testkit::unique_prefix());
    let mut instances = Vec::new();
    for _ in 0..if redis.is_some() { 2 } else { 1 } {
        let fleet = match redis {
            Some(url) => Some(ordo_redis::Redis::open(url, &prefix).await.unwrap()),
            None => None,
        };
        instances.push(Delivery::new(
            db.clone(),
            Outbox::new(crate::NAME, db.clone()),
            config.clone(),
            nobody.clone(),
            nobody.clone(),
            fleet,
        ));
    }
    // Which instance takes each step: its own sequence, so that the history is the same.
    let mut pick = fastrand::Rng::with_seed(seed ^ 0x5eed);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut now = ordo_kernel::time::now();
    let deliveries: Vec<domain::Delivery> = (0..DELIVERIES).map(|_| waiting(now)).collect();
    let mut tx = db.begin().await.unwrap();
    for delivery in &deliveries {
        assert!(
            store::insert_delivery(&mut tx, delivery, None)
                .await
                .unwrap()
        );
    }
    tx.commit().await.unwrap();
    let couriers: Vec<Caller> = (0..COURIERS)
        .map(|_| Caller {
            user_id: Uuid::new_v4(),
            role: Role::Courier,
        })
        .collect();
    let mut model = [Model {
        online: false,
        in_range: false,
        located: false,
    }; COURIERS];
    let mut ever_offered: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    for step in 0..STEPS {
        let n = rng.usize(..COURIERS);
        let courier = &couriers[n];
        let service = &instances[pick.usize(..instances.len())];
        match rng.u8(..6) {
            0 => {
                let online = !model[n].online;
                service.set_availability(courier, online).await.unwrap();
                model[n].online = online;
                model[n].located &= online;
            }
            1 | 2 if model[n].online => {
                let in_range = rng.u8(..3) > 0;
                let (lat, lon) = place(in_range, n);
                service
                    .locate(courier, lat, lon, TraceContext::new_root())
                    .await
                    .unwrap();
                model[n].in_range = in_range;
                model[n].located = true;
            }
            3 => {
                let open = service.offers(courier).await.unwrap();
                if let Some((offer, _)) = open.first() {
                    service
                        .decline(courier, offer.id, &EventMeta::default())
                        .await
                        .unwrap();
                }
            }
            _ => now += Duration::milliseconds(rng.i64(0..=2_500)),
        }
        let before: HashMap<Uuid, HashSet<Uuid>> = ever_offered.clone();
        instances[pick.usize(..instances.len())]
            .sweep(now)
            .await
            .unwrap();
        let eligible: HashSet<Uuid> = (0..COURIERS)
            .filter(|&n| model[n].online && model[n].located && model[n].in_range)
            .map(|n| couriers[n].user_id)
            .collect();
        for delivery in &deliveries {
            let offers = store::past_offers(&db, delivery.id).await.unwrap();
            let open: Vec<Uuid> = offers
                .iter()
                .filter(|o| o.status == OfferStatus::Open)
                .map(|o| o.courier_id)
                .collect();
            let distinct: HashSet<Uuid> = open.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                open.len(),
                "seed {seed} step {step}: asked twice at once"
            );
            let asked_now: HashSet<Uuid> = offers
                .iter()
                .filter(|o| o.created_at == now && o.status == OfferStatus::Open)
                .map(|o| o.courier_id)
                .collect();
            let earlier = before.get(&delivery.id).cloned().unwrap_or_default();
            if asked_now.iter().any(|c| earlier.contains(c)) {
                let skipped: Vec<&Uuid> = eligible
                    .iter()
                    .filter(|c| !earlier.contains(c) && !asked_now.contains(c))
                    .collect();
                assert!(
                    skipped.is_empty() || asked_now.len() == 2,
                    "seed {seed} step {step}: asked again before {skipped:?}, never asked"
                );
            }
            ever_offered
                .entry(delivery.id)
                .or_default()
                .extend(offers.iter().map(|o| o.courier_id));
            if open.is_empty() {
                for courier in &eligible {
                    let resting = offers.iter().any(|o| {
                        o.courier_id == *courier
                            && o.ended_at.is_some_and(|ended| {
                                now < ended + Duration::seconds(REOFFER_SECS as i64)
                            })
                    });
                    assert!(
                        resting,
                        "seed {seed} step {step}: delivery {} waits with nobody asked, yet courier {courier} is free in range and was not asked within {REOFFER_SECS} s",
                        delivery.id
                    );
                }
            }
        }
    }
    let asked: usize = ever_offered.values().map(HashSet::len).sum();
    assert!(asked > 0, "seed {seed}: the history never asked anyone");
}

backend_test!(dispatch_never_forgets_a_delivery, never_forgotten);
