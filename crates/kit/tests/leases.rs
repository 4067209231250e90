//! Leases on sweeps, on both databases: one holder at a time per sweep, renewed by its
//! holder, taken over by another once it has run out.

use ordo_kit::Lease;
use ordo_testkit::{Backend, backend_test};
use std::time::Duration;
use time::macros::datetime;

async fn one_holder_at_a_time_until_it_stops_renewing(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "leases").await;
    db.migrate_component(ordo_kit::COMPONENT, &ordo_kit::migrations())
        .await
        .unwrap();
    let (a, b) = (Lease::new(db.clone(), "a"), Lease::new(db, "b"));
    let start = datetime!(2026-12-06 12:00 UTC);
    let at = |secs: i64| start + time::Duration::seconds(secs);
    let lasting = Duration::from_secs(10);

    assert!(a.hold("expiry", at(0), lasting).await.unwrap(), "free");
    assert!(
        !b.hold("expiry", at(1), lasting).await.unwrap(),
        "a holds it"
    );
    assert!(
        b.hold("refunds", at(1), lasting).await.unwrap(),
        "another sweep"
    );
    assert!(a.hold("expiry", at(5), lasting).await.unwrap(), "renewed");
    assert!(
        !b.hold("expiry", at(14), lasting).await.unwrap(),
        "renewed until 15"
    );
    assert!(
        b.hold("expiry", at(16), lasting).await.unwrap(),
        "a stopped: taken over"
    );
    assert!(
        !a.hold("expiry", at(17), lasting).await.unwrap(),
        "b holds it now"
    );
}

backend_test!(holders, one_holder_at_a_time_until_it_stops_renewing);

/// A lease written by the previous release (its end in epoch milliseconds) still holds
/// after the migration, and runs out when it did.
async fn a_lease_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "leases").await;
    let all = ordo_kit::migrations();
    db.migrate_component(ordo_kit::COMPONENT, &all[..all.len() - 1])
        .await
        .unwrap();
    let until = datetime!(2026-12-06 12:00:10 UTC);
    db.execute(
        "INSERT INTO sweep_leases (name, holder, until_ms) VALUES ('expiry', 'a', $1)",
        ordo_db::params![ordo_kernel::time::to_millis(until)],
    )
    .await
    .unwrap();
    db.migrate_component(ordo_kit::COMPONENT, &all)
        .await
        .unwrap();

    let b = Lease::new(db, "b");
    let lasting = Duration::from_secs(10);
    let before = until - time::Duration::seconds(1);
    assert!(
        !b.hold("expiry", before, lasting).await.unwrap(),
        "a holds it"
    );
    let after = until + time::Duration::seconds(1);
    assert!(b.hold("expiry", after, lasting).await.unwrap(), "run out");
}

backend_test!(forward, a_lease_of_the_previous_release_migrates_forward);
