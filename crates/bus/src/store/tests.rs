//! The bus's tables on both databases: a database written by the previous release (ids as
//! text, instants as epoch milliseconds, JSON as text) migrates forward with its data.

use super::*;
use crate::envelope::{CONTENT_TYPE, SPEC_VERSION};
use ordo_testkit::{Backend, backend_test};
use std::time::Duration;

fn envelope(id: Uuid, at: OffsetDateTime) -> Envelope {
    Envelope {
        specversion: SPEC_VERSION.into(),
        id,
        event_type: "order.placed".into(),
        source: "orders".into(),
        subject: "o-1".into(),
        subject_seq: Some(1),
        subject_since: Some(at),
        time: at,
        datacontenttype: CONTENT_TYPE.into(),
        dataversion: 1,
        data: RawValue::from_string(r#"{"n":1}"#.into()).unwrap(),
        traceparent: None,
        correlationid: None,
    }
}

async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "bus_forward").await;
    let all = crate::migrations();
    let previous = all.len() - 1;
    db.migrate_component(crate::COMPONENT, &all[..previous])
        .await
        .unwrap();

    let at = ordo_kernel::time::stored(ordo_kernel::time::now());
    let millis = ordo_kernel::time::to_millis(at);
    let (event, letter) = (Uuid::now_v7(), Uuid::now_v7());
    let old_rows: [(&str, &[Value]); 6] = [
        (
            "INSERT INTO bus_outbox (id, type, source, subject, subject_seq, subject_since, time, dataversion, data)
             VALUES ($1, 'order.placed', 'orders', 'o-1', 1, $2, $2, 1, '{\"n\":1}')",
            params![event.to_string(), millis],
        ),
        (
            "INSERT INTO bus_inbox (consumer, event_id, handled_at) VALUES ('payments', $1, $2)",
            params![event.to_string(), millis],
        ),
        (
            "INSERT INTO bus_dead_letters (id, consumer, event_id, event_type, subject, envelope, attempts, last_error, first_failed_at, dead_at, status)
             VALUES ($1, 'payments', $2, 'order.placed', 'o-1', $3, 3, 'declined', $4, $4, 'dead')",
            params![
                letter.to_string(),
                event.to_string(),
                serde_json::to_string(&envelope(event, at)).unwrap(),
                millis
            ],
        ),
        (
            "INSERT INTO bus_leases (name, holder, expires_at) VALUES ('relay', 'first', $1)",
            params![millis + 60_000],
        ),
        (
            "INSERT INTO bus_subjects (source, subject, seq, since) VALUES ('orders', 'o-1', 1, $1)",
            params![millis],
        ),
        (
            "INSERT INTO bus_consumers (consumer, since) VALUES ('payments', $1)",
            params![millis],
        ),
    ];
    for (sql, params) in old_rows {
        db.execute(sql, params).await.unwrap();
    }

    db.migrate_component(crate::COMPONENT, &all).await.unwrap();

    let outbox = unpublished(&db, 0, 10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    let read = &outbox[0].envelope;
    assert_eq!(
        (read.id, read.time, read.subject_since, read.data.get()),
        (event, at, Some(at), r#"{"n":1}"#)
    );
    let claimed = db
        .write(move |tx| {
            Box::pin(async move {
                let mut batch = tx.batch();
                let claims = stage_claim(&mut batch, "payments", &[event], at);
                let changed = tx.run(batch).await?;
                Ok::<u64, Error>(claims.into_iter().map(|c| changed.rows(c)).sum())
            })
        })
        .await
        .unwrap();
    assert_eq!(claimed, 0, "the inbox still knows the event");
    let dead = dead_letter_by_id(&db, letter).await.unwrap().unwrap();
    assert_eq!(
        (
            dead.event_id,
            dead.first_failed_at,
            dead.envelope.id,
            dead.envelope.time
        ),
        (event, at, event, at)
    );
    assert!(
        !acquire_lease(&db, "relay", "second", at, Duration::from_secs(5))
            .await
            .unwrap(),
        "the first holder's lease has not run out"
    );
    assert_eq!(
        consumer_since(&db, "payments", ordo_kernel::time::now())
            .await
            .unwrap(),
        at
    );
    let next = envelope(Uuid::now_v7(), at);
    let id = next.id;
    db.write(move |tx| Box::pin(async move { insert_events(tx, &[next]).await }))
        .await
        .unwrap();
    let written = unpublished(&db, 0, 10).await.unwrap();
    let written = written.iter().find(|row| row.envelope.id == id).unwrap();
    assert_eq!(
        written.envelope.subject_seq,
        Some(2),
        "the subject's places go on"
    );
}

backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);

fn about(subject: &str) -> Envelope {
    Envelope {
        subject: subject.into(),
        subject_seq: None,
        subject_since: None,
        ..envelope(Uuid::now_v7(), ordo_kernel::time::now())
    }
}

/// Events appended together, alone or staged with other writes, take their subjects'
/// places in the order given, and the outbox keeps that order.
async fn events_take_their_subjects_places_in_order(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "bus_places").await;
    db.migrate_component(crate::COMPONENT, &crate::migrations())
        .await
        .unwrap();
    let together = vec![about("a"), about("b"), about("a")];
    db.write(move |tx| Box::pin(async move { insert_events(tx, &together).await }))
        .await
        .unwrap();
    let staged = about("a");
    db.write(move |tx| {
        Box::pin(async move {
            let mut batch = tx.batch();
            let lease = batch.execute(
                "INSERT INTO bus_leases (name, holder, expires_at) VALUES ($1, $2, $3)",
                params!["sweep", "me", ordo_kernel::time::now()],
            );
            stage(&mut batch, &[staged])?;
            assert!(stage(&mut batch, &[about("c")]).is_err(), "once per batch");
            let changed = tx.run(batch).await?;
            assert_eq!(changed.rows(lease), 1);
            Ok::<_, Error>(())
        })
    })
    .await
    .unwrap();
    let written: Vec<(String, Option<u64>)> = unpublished(&db, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.envelope.subject, row.envelope.subject_seq))
        .collect();
    let expected = [("a", 1), ("b", 1), ("a", 2), ("a", 3)].map(|(s, n)| (s.to_owned(), Some(n)));
    assert_eq!(written, expected);
}

backend_test!(places, events_take_their_subjects_places_in_order);
