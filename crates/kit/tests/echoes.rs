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
    tasks.spawn(echoes.run(client, prefix.to_owned(), stop.clone()));
    wakeups
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
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .expect("the listeners stop with the bus");
}
