//! Wake-ups reach the live streams another process holds, through the broker: a change one
//! process commits wakes the streams of its key wherever they are open.

use ordo_bus::{Bus, BusOptions, RunningBus};
use ordo_kit::Wakeups;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// A process's wake-ups, echoed through its own bus to the broker at `url`.
async fn process(url: &str, prefix: &str) -> (Arc<Wakeups>, RunningBus) {
    let wakeups = Arc::new(Wakeups::default());
    let bus = Bus::new(BusOptions {
        url: Some(url.to_owned()),
        stream: format!("E_{prefix}"),
        subject_prefix: prefix.to_owned(),
        ..BusOptions::default()
    });
    wakeups.echo_through("notifications", &bus.echoes());
    (wakeups, bus.start().await.expect("the bus starts"))
}

/// Whether `wake` wakes `stream` `within`; interest is taken before it is made.
async fn wakes(stream: &tokio::sync::Notify, wake: impl FnOnce(), within: Duration) -> bool {
    let woken = stream.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    wake();
    tokio::time::timeout(within, woken).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_one_process_wakes_a_stream_in_another_nats() {
    if let Some(url) = ordo_testkit::nats("a_commit_in_one_process_wakes_a_stream_in_another") {
        let prefix = ordo_testkit::unique_prefix();
        echoes_cross_processes(&url, &prefix).await;
        let client = async_nats::connect(url.as_str()).await.unwrap();
        let _ = async_nats::jetstream::new(client)
            .delete_stream(format!("E_{prefix}"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_one_process_wakes_a_stream_in_another_kafka() {
    if let Some(url) = ordo_testkit::kafka("a_commit_in_one_process_wakes_a_stream_in_another") {
        echoes_cross_processes(&url, &ordo_testkit::unique_prefix()).await;
    }
}

async fn echoes_cross_processes(url: &str, prefix: &str) {
    let ((here, here_bus), (there, there_bus)) =
        (process(url, prefix).await, process(url, prefix).await);
    let (ann, event) = (Uuid::now_v7(), Uuid::now_v7());
    let stream = there.of(ann);
    // The other process hears once its subscription is made: asked again until it is.
    let mut heard = false;
    for _ in 0..120 {
        if wakes(&stream, || here.wake(ann), Duration::from_millis(500)).await {
            heard = true;
            break;
        }
    }
    assert!(
        heard,
        "a wake-up made in one process reaches the stream in the other"
    );
    here.touching(event, &[ann]);
    assert!(
        wakes(
            &stream,
            || here.committed(&[event]),
            Duration::from_secs(30)
        )
        .await,
        "so does one after a consumer's commit"
    );
    for bus in [here_bus, there_bus] {
        bus.stop(Duration::from_secs(30)).await;
    }
}
