//! Wake-ups reach the live streams another process holds, through the broker: a change one
//! process commits wakes the streams of its key wherever they are open.

use ordo_bus::Echoes;
use ordo_kit::Wakeups;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

/// A process's wake-ups, echoed through its own connection to the broker.
async fn process(
    url: &str,
    prefix: &str,
    tasks: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
) -> Arc<Wakeups> {
    let wakeups = Arc::new(Wakeups::default());
    let echoes = Echoes::default();
    wakeups.echo_through("notifications", &echoes);
    let client = async_nats::connect(url).await.unwrap();
    echoes.connect(client, prefix, tasks, stop).await.unwrap();
    wakeups
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_one_process_wakes_a_stream_in_another() {
    let Some(url) = ordo_testkit::nats("a_commit_in_one_process_wakes_a_stream_in_another") else {
        return;
    };
    let prefix = ordo_testkit::unique_prefix();
    let mut tasks = JoinSet::new();
    let (stop, stopped) = watch::channel(false);
    let (here, there) = (
        process(&url, &prefix, &mut tasks, &stopped).await,
        process(&url, &prefix, &mut tasks, &stopped).await,
    );
    let (ann, event) = (Uuid::now_v7(), Uuid::now_v7());
    let stream = there.of(ann);

    let woken = stream.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    here.wake(ann);
    tokio::time::timeout(Duration::from_secs(30), woken)
        .await
        .expect("a wake-up made in one process reaches the stream in the other");

    let woken = stream.notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    here.touching(event, &[ann]);
    here.committed(&[event]);
    tokio::time::timeout(Duration::from_secs(30), woken)
        .await
        .expect("so does one after a consumer's commit");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .expect("the listeners stop with the bus");
}
