//! The fleet in Redis as several delivery instances see it: one fleet whoever asks, a
//! courier claimed once, one allowance of position reports, the silent set aside, and the
//! fleet loaded again when Redis lost it.

use crate::app::fleet::{Courier, Refused};
use crate::domain::Fix;
use crate::store::fleet::RedisFleet;
use ordo_http::ratelimit::Quota;
use ordo_kernel::trace::TraceContext;
use ordo_redis::Redis;
use std::collections::HashSet;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const SHOP: (f64, f64) = (52.5200, 13.4050);
const SPEED: f64 = 150.0;

/// Two instances' fleets on one prefix of their own.
async fn instances(url: &str, quota: Quota) -> (RedisFleet, RedisFleet, Redis) {
    let prefix = format!("{}:", ordo_testkit::unique_prefix());
    let open = || async { Redis::open(url, &prefix).await.unwrap() };
    let redis = open().await;
    (
        RedisFleet::new(open().await, quota),
        RedisFleet::new(open().await, quota),
        redis,
    )
}

fn fix(lat: f64, lon: f64, at: OffsetDateTime) -> Fix {
    Fix { lat, lon, at }
}

async fn online_at(fleet: &RedisFleet, lat: f64, lon: f64) -> Uuid {
    let id = Uuid::now_v7();
    let now = ordo_kernel::time::now();
    let courier = Courier {
        online: true,
        fix: Some(fix(lat, lon, now)),
        busy: false,
        idle_since: now,
    };
    fleet.load(id, &courier).await.unwrap();
    id
}

fn ids(found: &[crate::domain::Candidate]) -> Vec<Uuid> {
    found.iter().map(|c| c.courier_id).collect()
}

#[tokio::test]
async fn one_fleet_whichever_instance_asks() {
    let Some(url) = ordo_testkit::redis("one_fleet_whichever_instance_asks") else {
        return;
    };
    let (here, there, _) = instances(&url, Quota::new(6000, 100)).await;
    let now = ordo_kernel::time::now();
    assert!(here.working().await.unwrap().is_empty(), "an empty fleet");
    here.reconcile_busy(&HashSet::new(), now).await.unwrap();
    let near = online_at(&here, 52.5210, 13.4050).await;
    let far = online_at(&there, 52.5400, 13.4050).await;
    let _out_of_range = online_at(&here, 52.7000, 13.4050).await;
    let none = HashSet::new();
    assert_eq!(
        ids(&there.candidates(SHOP, 8.0, &none, 10).await.unwrap()),
        [near, far]
    );

    // Claimed on one instance, it is busy on both; released, askable again.
    assert!(here.claim(near, now).await.unwrap());
    assert!(!there.claim(near, now).await.unwrap(), "claimed once");
    assert_eq!(
        ids(&there.candidates(SHOP, 8.0, &none, 10).await.unwrap()),
        [far]
    );
    there.release(near, now, None).await.unwrap();
    assert!(!here.get(near).await.unwrap().unwrap().busy);

    // Offline on one, not asked by the other, and its reports are refused.
    assert!(there.set_online(far, false, now).await.unwrap());
    assert_eq!(
        ids(&here.candidates(SHOP, 8.0, &none, 10).await.unwrap()),
        [near]
    );
    let refused = here
        .locate(
            far,
            fix(52.5400, 13.4050, now),
            SPEED,
            TraceContext::new_root(),
        )
        .await
        .unwrap();
    assert_eq!(refused, Err(Refused::Offline));
    assert!(
        !here.set_online(Uuid::now_v7(), true, now).await.unwrap(),
        "unknown courier"
    );

    // Moving into range on one instance makes it a candidate on the other.
    assert!(here.set_online(far, true, now).await.unwrap());
    let later = now + Duration::minutes(5);
    here.locate(
        far,
        fix(52.5205, 13.4050, later),
        SPEED,
        TraceContext::new_root(),
    )
    .await
    .unwrap()
    .unwrap();
    let found = there
        .candidates(SHOP, 8.0, &HashSet::from([near]), 10)
        .await
        .unwrap();
    assert_eq!(ids(&found), [far]);
    assert!(found[0].distance_km < 0.1);
}

#[tokio::test]
async fn reports_share_one_allowance_and_reach_the_database_once() {
    let Some(url) = ordo_testkit::redis("reports_share_one_allowance") else {
        return;
    };
    let (here, there, _) = instances(&url, Quota::new(1, 3)).await;
    let courier = online_at(&here, 52.5210, 13.4050).await;
    let now = ordo_kernel::time::now();
    let trace = TraceContext::new_root();
    let mut taken = 0;
    for i in 0..6 {
        let fleet = if i % 2 == 0 { &here } else { &there };
        match fleet
            .locate(courier, fix(52.5210, 13.4050, now), SPEED, trace)
            .await
            .unwrap()
        {
            Ok(()) => taken += 1,
            Err(Refused::TooOften(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(taken, 3, "the burst, across both instances");
    let jump = there
        .locate(courier, fix(48.8566, 2.3522, now), SPEED, trace)
        .await
        .unwrap();
    assert!(matches!(jump, Err(Refused::TooFast(_))), "{jump:?}");

    let dirty = there.take_dirty().await.unwrap();
    assert_eq!(dirty.len(), 1);
    assert_eq!(dirty[0].0, courier);
    assert_eq!(dirty[0].2, Some(trace));
    assert!(here.take_dirty().await.unwrap().is_empty(), "taken once");
    here.still_dirty(&[courier]).await.unwrap();
    assert_eq!(
        there.take_dirty().await.unwrap().len(),
        1,
        "put back when not written"
    );
}

#[tokio::test]
async fn the_silent_are_set_aside_and_busy_flags_follow_the_database() {
    let Some(url) = ordo_testkit::redis("the_silent_are_set_aside") else {
        return;
    };
    let (here, there, _) = instances(&url, Quota::new(6000, 100)).await;
    let courier = online_at(&here, 52.5210, 13.4050).await;
    let now = ordo_kernel::time::now();
    let none = HashSet::new();
    assert_eq!(
        here.set_aside_silent(now - Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        there
            .set_aside_silent(now + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert!(
        here.candidates(SHOP, 8.0, &none, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let later = now + Duration::seconds(2);
    here.locate(
        courier,
        fix(52.5210, 13.4050, later),
        SPEED,
        TraceContext::new_root(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        ids(&there.candidates(SHOP, 8.0, &none, 10).await.unwrap()),
        [courier]
    );

    // The database says who carries a delivery; a claim moments old is left alone.
    let carrying = online_at(&there, 52.5211, 13.4050).await;
    here.reconcile_busy(&HashSet::from([carrying]), now)
        .await
        .unwrap();
    assert!(there.get(carrying).await.unwrap().unwrap().busy);
    assert!(there.claim(courier, now).await.unwrap());
    here.reconcile_busy(&HashSet::new(), now).await.unwrap();
    assert!(!there.get(carrying).await.unwrap().unwrap().busy);
    assert!(
        there.get(courier).await.unwrap().unwrap().busy,
        "claimed moments ago"
    );
    here.reconcile_busy(&HashSet::new(), now + Duration::minutes(5))
        .await
        .unwrap();
    assert!(!there.get(courier).await.unwrap().unwrap().busy);
}

#[tokio::test]
async fn a_fleet_redis_lost_is_loaded_again_without_overwriting_what_it_knows() {
    let Some(url) = ordo_testkit::redis("a_fleet_redis_lost_is_loaded_again") else {
        return;
    };
    let (here, there, redis) = instances(&url, Quota::new(6000, 100)).await;
    assert!(
        here.needs_loading().await.unwrap(),
        "the first to ask loads it"
    );
    assert!(!there.needs_loading().await.unwrap());
    let courier = online_at(&here, 52.5210, 13.4050).await;
    let stale = Courier {
        online: false,
        fix: None,
        busy: false,
        idle_since: OffsetDateTime::UNIX_EPOCH,
    };
    there.load(courier, &stale).await.unwrap();
    assert!(
        here.get(courier).await.unwrap().unwrap().online,
        "what it knows stays"
    );

    let loaded = redis.key("{fleet}:loaded");
    let _: () = redis
        .run(|mut c| async move { redis::cmd("DEL").arg(loaded).query_async(&mut c).await })
        .await
        .unwrap();
    assert!(there.needs_loading().await.unwrap(), "lost: loaded again");
}
