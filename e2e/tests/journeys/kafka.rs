//! The checkout and seed 003's delivery flow on PostgreSQL with Kafka as the bus: the same
//! journeys as on NATS, through the shared Kafka broker (`TEST_KAFKA_URL`).

use crate::orders::checkout_prices_reserves_and_replays;
use crate::seed003::the_fifteen_steps;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_postgres_kafka() {
    let test = "checkout_postgres_kafka";
    if let (Some(backend), Some(kafka)) = (ordo_testkit::postgres(test), ordo_testkit::kafka(test))
    {
        ordo_e2e::on_kafka(kafka, checkout_prices_reserves_and_replays(backend)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_postgres_kafka() {
    let test = "seed_003_postgres_kafka";
    if let (Some(backend), Some(kafka)) = (ordo_testkit::postgres(test), ordo_testkit::kafka(test))
    {
        ordo_e2e::on_kafka(kafka, the_fifteen_steps(backend)).await;
    }
}
