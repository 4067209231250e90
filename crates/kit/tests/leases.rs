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
