//! What the bus does when the broker is not there yet, or comes back without its store:
//! on the brokers only (the in-process bus has no broker to lose).

use super::*;

on_brokers!(events_a_lost_store_held_are_sent_again);
/// Events the broker acknowledged but had not delivered when it lost its store are sent
/// again when the bus finds the store gone, and each has one effect.
async fn events_a_lost_store_held_are_sent_again(mut h: Harness) {
    h.start().await;
    let before = h.publish(&[("order-l", 0, None)]).await[0];
    h.until("the first event is handled", || async {
        h.effects_of(before).await == 1
    })
    .await;
    h.stop().await;
    // Published and acknowledged by the broker while nothing consumes them...
    let ids = h
        .publish(&[("order-l", 1, None), ("order-m", 1, None)])
        .await;
    h.start_relay_only().await;
    h.until("the broker has them", || async {
        h.unpublished().await == 0
    })
    .await;
    h.stop().await;
    // ...then the broker loses its store.
    h.lose_store().await;
    h.start().await;
    h.until("the lost events are handled", || async {
        h.effects().await.len() == 3
    })
    .await;
    for id in ids {
        assert_eq!(h.effects_of(id).await, 1, "one effect each");
    }
    assert_eq!(
        h.effects_of(before).await,
        1,
        "no second effect of the first"
    );
    h.cleanup().await;
}

on_brokers!(a_running_bus_recovers_a_lost_store);
/// The broker restarts with an empty store under a running bus: the stream or the topics
/// are made again, the consumers attach again, and events keep flowing without a restart.
/// (The store is wiped while the bus cannot see the broker, as a restart would: a stream
/// deleted in front of a connected publisher may still take its messages while it goes.)
async fn a_running_bus_recovers_a_lost_store(mut h: Harness) {
    h.start().await;
    let first = h.publish(&[("order-r", 0, None)]).await[0];
    h.until("the first event is handled", || async {
        h.effects_of(first).await == 1
    })
    .await;
    let proxy = h.proxy.take().expect("a proxy in front of the broker");
    proxy.cut();
    h.lose_store().await;
    let later = h
        .publish(&[("order-r", 1, None), ("order-s", 1, None)])
        .await;
    proxy.restore();
    h.until("events after the loss are handled", || async {
        h.effects().await.len() == 3
    })
    .await;
    for id in later {
        assert_eq!(h.effects_of(id).await, 1);
    }
    assert_eq!(
        h.effects_of(first).await,
        1,
        "no second effect of the first"
    );
    h.proxy = Some(proxy);
    h.cleanup().await;
}

on_brokers!(a_bus_started_without_its_broker_delivers_when_it_comes);
/// Started while the broker is unreachable, the bus runs, keeps events in the outbox, and
/// delivers them once the broker can be reached.
async fn a_bus_started_without_its_broker_delivers_when_it_comes(mut h: Harness) {
    let proxy = h.proxy.take().expect("a proxy in front of the broker");
    proxy.cut();
    h.start().await;
    let ids = h
        .publish(&[("order-u", 0, None), ("order-v", 0, None)])
        .await;
    ordo_testkit::until(
        &proxy.refusals,
        "the broker is found unreachable",
        || async { proxy.refused() > 0 },
    )
    .await;
    assert_eq!(h.unpublished().await, 2, "kept in the outbox");
    assert!(
        h.options.health.failing_for().is_some(),
        "the bus says it cannot publish"
    );
    proxy.restore();
    h.until("the events are handled", || async {
        h.effects().await.len() == 2
    })
    .await;
    for id in ids {
        assert_eq!(h.effects_of(id).await, 1);
    }
    assert_eq!(
        h.options.health.failing_for(),
        None,
        "the bus says it publishes again"
    );
    h.proxy = Some(proxy);
    h.cleanup().await;
}
