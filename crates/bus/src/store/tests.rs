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
        .write(move |tx| Box::pin(async move { claim(tx, "payments", &[event], at).await }))
        .await
        .unwrap();
    assert!(claimed.is_empty(), "the inbox still knows the event");
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
    let mut events = [envelope(Uuid::now_v7(), at)];
    db.write(move |tx| {
        Box::pin(async move {
            insert_events(tx, &mut events).await?;
            Ok::<_, Error>(events[0].subject_seq)
        })
    })
    .await
    .map(|seq| assert_eq!(seq, Some(2), "the subject's places go on"))
    .unwrap();
}

backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
