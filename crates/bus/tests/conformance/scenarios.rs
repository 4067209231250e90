//! The scenarios every backend must pass: order per subject, rollbacks, crashes at each
//! fault point, outages, poison events, replays and republishing.

use super::*;

/// The effects of `subject` were made for its events 0, 1, … `count - 1`, in that order.
fn assert_in_order(effects: &[(String, String, i64)], subject: &str, count: i64) {
    let order: Vec<i64> = effects
        .iter()
        .filter(|(_, s, _)| s == subject)
        .map(|(_, _, n)| *n)
        .collect();
    assert_eq!(order, (0..count).collect::<Vec<_>>(), "order of {subject}");
}

/// Waits until every one of `per_subject` events of each of `subjects` has had its effect,
/// then checks there is one per event, in each subject's order.
async fn until_each_in_order(h: &Harness, subjects: &[&str], per_subject: i64) {
    let total = subjects.len() * usize::try_from(per_subject).unwrap();
    h.until("every event is handled", || async {
        h.effects().await.len() >= total
    })
    .await;
    let effects = h.effects().await;
    assert_eq!(effects.len(), total, "one effect per event");
    for subject in subjects {
        assert_in_order(&effects, subject, per_subject);
    }
}

conformance!(events_of_a_subject_are_handled_in_order);
async fn events_of_a_subject_are_handled_in_order(mut h: Harness) {
    h.start().await;
    let subjects = ["order-a", "order-b", "order-c", "order-d"];
    let per_subject = 60_i64;
    for n in 0..per_subject {
        let batch: Vec<(&str, i64, Option<&str>)> = subjects
            .iter()
            .map(|s| (*s, n, (n % 7 == 3).then_some("retry-once")))
            .collect();
        h.publish(&batch).await;
    }
    until_each_in_order(&h, &subjects, per_subject).await;
    assert!(h.stats().retried() > 0, "the retries happened");
    h.cleanup().await;
}

conformance!(events_in_their_own_transactions_commit_one_at_a_time_on_postgresql);
async fn events_in_their_own_transactions_commit_one_at_a_time_on_postgresql(mut h: Harness) {
    h.one_per_transaction = true;
    h.start().await;
    let subjects = ["order-a", "order-b", "order-c"];
    let per_subject = 20_i64;
    // All in one commit, so that they reach the consumer together, as a batch would take
    // them; each followed by one the consumer passes over, which may go along.
    let outbox = h.outbox();
    let mut tx = h.producer.begin().await.unwrap();
    for n in 0..per_subject {
        for subject in subjects {
            let meta = EventMeta::default();
            let tick = Ticked { n, trouble: None };
            outbox.append(&mut tx, subject, &tick, &meta).await.unwrap();
            outbox
                .append(&mut tx, subject, &Tocked { n }, &meta)
                .await
                .unwrap();
        }
    }
    outbox.commit(tx).await.unwrap();
    let total = subjects.len() * usize::try_from(per_subject).unwrap();
    until_each_in_order(&h, &subjects, per_subject).await;
    // On PostgreSQL, where a batch would hold its rows' locks; SQLite takes none.
    if h.kind != Kind::EmbeddedSqlite {
        let commits = h.commits.lock().unwrap().clone();
        assert_eq!(commits, vec![1; total], "one event per commit");
    }
    h.cleanup().await;
}

conformance!(a_rolled_back_transaction_publishes_nothing);
async fn a_rolled_back_transaction_publishes_nothing(mut h: Harness) {
    h.start().await;
    let outbox = h.outbox();
    let mut tx = h.producer.begin().await.unwrap();
    let ghost = outbox
        .append(
            &mut tx,
            "order-x",
            &Ticked {
                n: 1,
                trouble: None,
            },
            &EventMeta::default(),
        )
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let marker = h.publish(&[("order-x", 2, None)]).await[0];
    h.until("the marker is handled", || async {
        h.effects_of(marker).await == 1
    })
    .await;
    assert_eq!(h.effects_of(ghost).await, 0);
    assert_eq!(h.effects().await.len(), 1);
    h.cleanup().await;
}

conformance!(a_consumer_crash_after_commit_before_ack_yields_one_effect);
async fn a_consumer_crash_after_commit_before_ack_yields_one_effect(mut h: Harness) {
    h.options.faults.arm(FaultPoint::ConsumerAfterCommit, 1);
    h.start().await;
    let id = h.publish(&[("order-crash", 1, None)]).await[0];
    h.until("the effect is committed", || async {
        h.effects_of(id).await == 1
    })
    .await;
    h.until("the consumer crashes before acknowledging", || async {
        h.options.faults.fired(FaultPoint::ConsumerAfterCommit) == 1
    })
    .await;
    // The consumer died before acknowledging: the event comes again after a restart.
    h.stop().await;
    h.start().await;
    let stats = h.stats();
    h.until("the redelivery is recognised", || async {
        stats.duplicates() >= 1
    })
    .await;
    assert_eq!(h.effects_of(id).await, 1, "exactly one effect");
    h.cleanup().await;
}

conformance!(a_relay_crash_after_the_broker_acked_yields_one_effect);
async fn a_relay_crash_after_the_broker_acked_yields_one_effect(mut h: Harness) {
    h.options.faults.arm(FaultPoint::RelayAfterPublish, 1);
    h.start().await;
    let id = h.publish(&[("order-relay", 1, None)]).await[0];
    h.until("the effect is committed", || async {
        h.effects_of(id).await == 1
    })
    .await;
    // Stopped before it crashed, the relay would crash at the next start instead.
    h.until("the relay crashes before marking", || async {
        h.options.faults.fired(FaultPoint::RelayAfterPublish) == 1
    })
    .await;
    assert_eq!(
        h.unpublished().await,
        1,
        "the crashed relay did not mark the row"
    );
    h.stop().await;
    h.start().await;
    h.until("the row is relayed again and marked", || async {
        h.unpublished().await == 0
    })
    .await;
    let next = h.publish(&[("order-relay", 2, None)]).await[0];
    h.until("a later event is handled", || async {
        h.effects_of(next).await == 1
    })
    .await;
    assert_eq!(h.effects_of(id).await, 1, "exactly one effect");
    h.cleanup().await;
}

conformance!(an_outage_loses_nothing_and_drains_after);
async fn an_outage_loses_nothing_and_drains_after(mut h: Harness) {
    h.start().await;
    let warmup = h.publish(&[("order-w", 0, None)]).await[0];
    h.until("the bus runs and has marked the first event", || async {
        h.effects_of(warmup).await == 1 && h.unpublished().await == 0
    })
    .await;
    // Embedded, the outage is the bus being down; with a broker, the broker unreachable.
    match &h.proxy {
        Some(proxy) => proxy.cut(),
        None => h.stop().await,
    }
    let mut ids = Vec::new();
    for n in 0..40 {
        ids.extend(
            h.publish(&[("order-o1", n, None), ("order-o2", n, None)])
                .await,
        );
    }
    if let Some(proxy) = &h.proxy {
        // The client has found the broker unreachable.
        ordo_testkit::until(
            &proxy.refusals,
            "the broker is found unreachable",
            || async { proxy.refused() > 0 },
        )
        .await;
    }
    assert_eq!(h.unpublished().await, 80, "nothing left during the outage");
    assert_eq!(h.effects().await.len(), 1);
    match &h.proxy {
        Some(proxy) => proxy.restore(),
        None => h.start().await,
    }
    h.until("everything drains", || async {
        h.effects().await.len() >= 81
    })
    .await;
    h.until("the outbox is empty", || async {
        h.unpublished().await == 0
    })
    .await;
    let effects = h.effects().await;
    assert_eq!(effects.len(), 81, "one effect per event");
    let handled: HashSet<String> = effects.iter().map(|(id, _, _)| id.clone()).collect();
    assert!(ids.iter().all(|id| handled.contains(&id.to_string())));
    h.cleanup().await;
}

conformance!(a_poison_event_is_dead_lettered_and_others_keep_flowing);
async fn a_poison_event_is_dead_lettered_and_others_keep_flowing(mut h: Harness) {
    h.start().await;
    let poison = h.publish(&[("order-p", 0, Some("poison"))]).await[0];
    let rejected = h.publish(&[("order-r", 0, Some("reject"))]).await[0];
    let follower = h.publish(&[("order-p", 1, None)]).await[0];
    for n in 0..30 {
        h.publish(&[("order-ok", n, None)]).await;
    }
    let stats = h.stats();
    h.until("both are dead letters", || async {
        stats.dead_lettered() == 2
    })
    .await;
    h.until("the others are handled", || async {
        h.effects().await.len() == 31
    })
    .await;
    assert_eq!(h.effects_of(poison).await, 0);
    assert_eq!(h.effects_of(rejected).await, 0);
    assert_eq!(
        h.effects_of(follower).await,
        1,
        "the poisoned subject goes on after it"
    );

    let letters = DeadLetters::new(vec![h.producer.clone(), h.consumer.clone()]);
    let page = letters
        .list(Some(CONSUMER), PageRequest::parse(None, None).unwrap())
        .await
        .unwrap();
    let by_event: HashMap<Uuid, _> = page.items.iter().map(|l| (l.event_id, l)).collect();
    let dead = by_event[&poison];
    assert_eq!(dead.consumer, CONSUMER);
    assert_eq!(dead.attempts, 3, "the attempt limit");
    assert!(dead.last_error.contains("poison"));
    assert_eq!(dead.subject, "order-p");
    assert_eq!(by_event[&rejected].attempts, 1, "a reject is not retried");
    h.cleanup().await;
}

conformance!(a_replayed_dead_letter_is_handled_once);
async fn a_replayed_dead_letter_is_handled_once(mut h: Harness) {
    h.start().await;
    let poison = h.publish(&[("order-p", 0, Some("poison"))]).await[0];
    let stats = h.stats();
    h.until("it is a dead letter", || async {
        stats.dead_lettered() == 1
    })
    .await;
    let letters = DeadLetters::new(vec![h.consumer.clone()]);
    let page = letters
        .list(None, PageRequest::parse(None, None).unwrap())
        .await
        .unwrap();
    let letter = page.items[0].id;

    h.healed.store(true, Ordering::SeqCst);
    let (a, b) = tokio::join!(letters.replay(letter), letters.replay(letter));
    // The later request may find the letter already taken by the consumer: gone, not an
    // error; at least one is accepted.
    assert!(a.unwrap() || b.unwrap(), "the replay is accepted");
    h.until("the replay is handled", || async { stats.replayed() == 1 })
        .await;
    assert_eq!(h.effects_of(poison).await, 1);
    assert!(
        letters.get(letter).await.unwrap().is_none(),
        "the letter is gone"
    );
    assert!(
        !letters.replay(letter).await.unwrap(),
        "nothing left to replay"
    );
    assert_eq!(h.effects_of(poison).await, 1, "handled once");
    h.cleanup().await;
}

on_brokers!(instances_split_a_durable_consumer);
/// Two instances of one service share the durable consumer (NATS) or the consumer group
/// (Kafka): they split the events, and each event has one effect, in each subject's order.
/// A Kafka group shares its partitions once the second instance has joined, which takes a
/// rebalance: events are published in rounds until both have worked.
async fn instances_split_a_durable_consumer(mut h: Harness) {
    h.options.concurrency = 1;
    h.options.batch_size = 8;
    h.start().await;
    let (second, _, second_stats) = h.assemble();
    let second = second.start().await.expect("start a second instance");
    let subjects: Vec<String> = (1..=12).map(|n| format!("order-{n}")).collect();
    let mut published = 0;
    let mut rounds = 0;
    while h.stats().handled() == 0 || second_stats.handled() == 0 {
        assert!(rounds < 200, "the second instance never took a share");
        let round: Vec<(&str, i64, Option<&str>)> = subjects
            .iter()
            .map(|subject| (subject.as_str(), rounds, None))
            .collect();
        published += h.publish(&round).await.len();
        rounds += 1;
        // Counted just after the commit that made the effects visible.
        let handled = || h.stats().handled() + second_stats.handled();
        h.until("every event is handled", || async {
            h.effects().await.len() >= published && handled() >= published as u64
        })
        .await;
    }
    let effects = h.effects().await;
    assert_eq!(effects.len(), published, "one effect per event");
    for subject in &subjects {
        assert_in_order(&effects, subject, rounds);
    }
    assert_eq!(
        h.stats().handled() + second_stats.handled(),
        published as u64
    );
    second.stop(Duration::from_secs(10)).await;
    h.cleanup().await;
}

conformance!(republished_events_have_no_second_effect);
async fn republished_events_have_no_second_effect(mut h: Harness) {
    h.start().await;
    let since = ordo_kernel::time::now() - Duration::from_secs(1);
    let id = h.publish(&[("order-again", 1, None)]).await[0];
    h.until("the event is handled", || async {
        h.effects_of(id).await == 1
    })
    .await;
    h.until("the row is marked", || async { h.unpublished().await == 0 })
        .await;

    // As after a broker lost what it had acknowledged.
    assert_eq!(ordo_bus::republish(&h.producer, since).await.unwrap(), 1);
    h.running.as_ref().unwrap().1.wake();
    h.until("the row is sent again", || async {
        h.unpublished().await == 0
    })
    .await;
    let marker = h.publish(&[("order-again", 2, None)]).await[0];
    h.until("a later event is handled", || async {
        h.effects_of(marker).await == 1
    })
    .await;
    if h.kind != Kind::NatsPostgres {
        // In process and through Kafka, the repeat reaches the consumer, whose inbox drops
        // it (counted just after the commit that made the marker's effect visible); NATS
        // drops it earlier, within its duplicate window.
        let stats = h.stats();
        h.until("the repeat is recognised", || async {
            stats.duplicates() >= 1
        })
        .await;
    }
    assert_eq!(h.effects_of(id).await, 1, "exactly one effect");
    h.cleanup().await;
}

conformance!(redelivery_after_a_crash_never_reorders_a_subject);
/// The first event of a subject is delivered and never acknowledged (its consumer stops
/// while the event waits for a retry, as a process killed between delivery and ack); the
/// next instance is handed the subject's later events before the broker redelivers the
/// first. They wait for it.
async fn redelivery_after_a_crash_never_reorders_a_subject(mut h: Harness) {
    h.options.max_attempts = 1000;
    h.options.retry_base = Duration::from_secs(30);
    h.options.retry_max = Duration::from_secs(30);
    h.start().await;
    let first = h.publish(&[("order-k", 1, Some("poison"))]).await[0];
    h.until("the first event is delivered and failing", || async {
        h.poisoned.load(Ordering::SeqCst) >= 1
    })
    .await;
    h.stop().await;
    h.healed.store(true, Ordering::SeqCst);
    h.start().await;
    h.publish(&[("order-k", 2, None), ("order-k", 3, None)])
        .await;
    h.until("the three are handled", || async {
        h.effects().await.len() == 3
    })
    .await;
    let order: Vec<i64> = h.effects().await.iter().map(|(_, _, n)| *n).collect();
    assert_eq!(order, [1, 2, 3], "the subject's order");
    assert_eq!(h.effects_of(first).await, 1);
    if h.nats_url.is_some() {
        assert!(
            h.stats().held() >= 1,
            "the later events came first and were held back"
        );
    }
    h.cleanup().await;
}

conformance!(a_predecessor_that_never_comes_is_reported_as_a_gap);
/// An event whose predecessor was lost (removed from the outbox in the transaction that
/// wrote it) is held back, then dead-lettered naming the gap; the subject goes on after it.
async fn a_predecessor_that_never_comes_is_reported_as_a_gap(mut h: Harness) {
    h.options.gap_timeout = Duration::from_millis(300);
    h.start().await;
    // Once it has handled an event, the consumer has recorded when it started: the subject
    // below begins after that, so its first event is awaited.
    let warm = h.publish(&[("order-w", 1, None)]).await[0];
    h.until("the consumer runs", || async {
        h.effects_of(warm).await == 1
    })
    .await;
    let outbox = h.outbox();
    let mut tx = h.producer.begin().await.unwrap();
    let tick = |n| Ticked { n, trouble: None };
    let lost = outbox
        .append(&mut tx, "order-g", &tick(1), &EventMeta::default())
        .await
        .unwrap();
    let early = outbox
        .append(&mut tx, "order-g", &tick(2), &EventMeta::default())
        .await
        .unwrap();
    tx.execute("DELETE FROM bus_outbox WHERE id = $1", params![lost])
        .await
        .unwrap();
    outbox.commit(tx).await.unwrap();
    let stats = h.stats();
    h.until("the gap is reported", || async { stats.gaps() == 1 })
        .await;
    let later = h.publish(&[("order-g", 3, None)]).await[0];
    h.until("the subject goes on", || async {
        h.effects_of(later).await == 1
    })
    .await;
    assert_eq!(h.effects_of(early).await, 0, "not handled over the gap");
    assert_eq!(stats.dead_lettered(), 1);
    assert!(stats.held() >= 1);
    let letters = DeadLetters::new(vec![h.consumer.clone()]);
    let page = letters
        .list(Some(CONSUMER), PageRequest::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let letter = &page.items[0];
    assert_eq!(letter.event_id, early);
    assert!(
        letter
            .last_error
            .contains("sequence gap: events 1..=1 of producer about order-g"),
        "{}",
        letter.last_error
    );
    h.cleanup().await;
}

conformance!(an_event_that_follows_another_source_waits_without_spending_attempts);
/// A handler says its event follows one of another source not handled yet: the event is
/// held and looked at again, past the attempt limit, and handled once that one has come;
/// the subject's next event waits behind it.
async fn an_event_that_follows_another_source_waits_without_spending_attempts(mut h: Harness) {
    h.start().await;
    let early = h.publish(&[("order-e", 1, Some("early"))]).await[0];
    let next = h.publish(&[("order-e", 2, None)]).await[0];
    let limit = i64::from(h.options.max_attempts);
    h.until("it has waited past the attempt limit", || async {
        h.poisoned.load(Ordering::SeqCst) > limit
    })
    .await;
    assert_eq!(h.effects_of(next).await, 0, "the next waits behind it");
    h.healed.store(true, Ordering::SeqCst);
    h.until("both are handled", || async {
        h.effects().await.len() == 2
    })
    .await;
    let order: Vec<i64> = h.effects().await.iter().map(|(_, _, n)| *n).collect();
    assert_eq!(order, [1, 2]);
    assert_eq!(h.effects_of(early).await, 1);
    let stats = h.stats();
    assert_eq!(stats.dead_lettered(), 0);
    assert_eq!(stats.retried(), 0, "waiting is not retrying");
    assert!(stats.held() >= 1);
    h.cleanup().await;
}
