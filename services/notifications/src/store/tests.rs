//! Notifications' stores on both databases: the inbox files each event's message once and
//! reads back as written (ids, instants to the millisecond, NULLs, the trace), pages and
//! streams in order, and is marked read; an order's parties keep their JSON staff list and
//! courier; each user's channels are kept per topic; text messages and email attempts are
//! recorded and listed; an order's timeline gathers them all.

use super::preferences;
use super::sms::{self, SmsRecord};
use super::timeline;
use super::{Attempt, PAGE, Parties};
use crate::app::Cause;
use crate::domain::{Channels, Message, Notification, Topic};
use ordo_db::{Db, params};
use ordo_kernel::time::stored;
use ordo_kernel::trace::TraceContext;
use ordo_testkit::{Backend, backend_test};
use std::path::Path;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// An instant with sub-millisecond digits, which the tables drop.
const T: OffsetDateTime = datetime!(2026-03-01 12:00:00.123456789 UTC);

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// `T` moved by `secs` seconds.
fn at(secs: i64) -> OffsetDateTime {
    T + Duration::seconds(secs)
}

/// The notifications database, migrated as the service is at start.
async fn open(backend: &Backend, dir: &Path) -> Db {
    let db = backend.open(dir, crate::NAME).await;
    db.migrate(crate::migrations()).await.unwrap();
    db
}

fn message(kind: &'static str, title: &str) -> Message {
    Message {
        kind,
        topic: Topic::OrderUpdates,
        title: title.into(),
        body: format!("{title}, in full."),
    }
}

fn cause(traced: bool) -> Cause {
    Cause {
        event_id: Uuid::now_v7(),
        trace: traced.then(|| TraceContext::parse(TRACEPARENT).unwrap()),
    }
}

/// Files one message in its own transaction; its id.
async fn file(
    db: &Db,
    user: Uuid,
    message: &Message,
    order_id: Uuid,
    cause: Cause,
    at: OffsetDateTime,
) -> Uuid {
    let mut tx = db.begin().await.unwrap();
    let id = super::insert(&mut tx, user, message, order_id, cause, at)
        .await
        .unwrap()
        .expect("filed");
    tx.commit().await.unwrap();
    id
}

fn ids(notifications: &[Notification]) -> Vec<Uuid> {
    notifications.iter().map(|n| n.id).collect()
}

async fn trace_of(db: &Db, id: Uuid) -> Option<String> {
    let (trace,): (Option<String>,) = db
        .fetch_one(
            "SELECT trace_id FROM notifications WHERE id = $1",
            params![id],
        )
        .await
        .unwrap();
    trace
}

async fn the_inbox_files_once_and_reads_back(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let (ada, bob, order) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let placed = message("order.placed", "Order placed");
    let traced = cause(true);

    let mut tx = db.begin().await.unwrap();
    let first = super::insert(&mut tx, ada, &placed, order, traced, at(0))
        .await
        .unwrap()
        .expect("filed");
    let again = super::insert(&mut tx, ada, &placed, order, traced, at(5)).await;
    assert_eq!(again.unwrap(), None, "the same event files nothing twice");
    let bobs = super::insert(&mut tx, bob, &placed, order, traced, at(0))
        .await
        .unwrap()
        .expect("another user, the same event");
    tx.commit().await.unwrap();
    assert_ne!(first, bobs);

    let inbox = super::page(&db, ada, false, None, 10).await.unwrap();
    assert_eq!(
        inbox,
        vec![Notification {
            id: first,
            user_id: ada,
            kind: "order.placed".into(),
            title: "Order placed".into(),
            body: "Order placed, in full.".into(),
            order_id: Some(order),
            read_at: None,
            created_at: datetime!(2026-03-01 12:00:00.123 UTC),
        }]
    );
    assert_eq!(
        trace_of(&db, first).await.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    let untraced = file(&db, ada, &placed, order, cause(false), at(1)).await;
    assert_eq!(trace_of(&db, untraced).await, None);
    assert_eq!(
        ids(&super::page(&db, bob, false, None, 10).await.unwrap()),
        [bobs]
    );

    assert_eq!(super::latest(&db, ada).await.unwrap(), Some(untraced));
    assert_eq!(super::latest(&db, Uuid::now_v7()).await.unwrap(), None);
    assert!(super::is_theirs(&db, ada, first).await.unwrap());
    assert!(!super::is_theirs(&db, bob, first).await.unwrap());
    assert!(!super::is_theirs(&db, ada, Uuid::now_v7()).await.unwrap());
}
backend_test!(inbox_files_once, the_inbox_files_once_and_reads_back);

async fn the_inbox_pages_streams_and_is_marked_read(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let (ada, bob, order) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut filed = Vec::new();
    for n in 0..4 {
        let title = format!("Step {n}");
        filed.push(
            file(
                &db,
                ada,
                &message("order.step", &title),
                order,
                cause(false),
                at(n),
            )
            .await,
        );
    }
    let bobs = file(
        &db,
        bob,
        &message("order.step", "Bob's"),
        order,
        cause(false),
        at(0),
    )
    .await;
    let [n0, n1, n2, n3] = filed[..] else {
        unreachable!()
    };

    // Newest first, `fetch` at a time, before the cursor.
    let all = super::page(&db, ada, false, None, 10).await.unwrap();
    assert_eq!(ids(&all), [n3, n2, n1, n0]);
    assert_eq!(all[1].title, "Step 2");
    assert_eq!(all[1].created_at, stored(at(2)));
    assert_eq!(
        ids(&super::page(&db, ada, false, None, 2).await.unwrap()),
        [n3, n2]
    );
    assert_eq!(
        ids(&super::page(&db, ada, false, Some(n2), 10).await.unwrap()),
        [n1, n0]
    );
    assert_eq!(
        ids(&super::page(&db, ada, false, Some(n0), 10).await.unwrap()),
        Vec::<Uuid>::new()
    );

    // Oldest first, after the cursor: what a stream sends next.
    assert_eq!(
        ids(&super::newer(&db, ada, None).await.unwrap()),
        [n0, n1, n2, n3]
    );
    assert_eq!(
        ids(&super::newer(&db, ada, Some(n1)).await.unwrap()),
        [n2, n3]
    );
    assert!(super::newer(&db, ada, Some(n3)).await.unwrap().is_empty());

    let mut tx = db.begin().await.unwrap();
    assert!(
        !super::mark_read(&mut tx, bob, n2, at(10)).await.unwrap(),
        "not Bob's"
    );
    assert!(super::mark_read(&mut tx, ada, n2, at(10)).await.unwrap());
    assert!(
        super::mark_read(&mut tx, ada, n2, at(20)).await.unwrap(),
        "read again: still theirs"
    );
    assert!(
        !super::mark_read(&mut tx, ada, Uuid::now_v7(), at(10))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let all = super::page(&db, ada, false, None, 10).await.unwrap();
    let read: Vec<Option<OffsetDateTime>> = all.iter().map(|n| n.read_at).collect();
    assert_eq!(
        read,
        [None, Some(stored(at(10))), None, None],
        "the first reading is kept"
    );
    let unread = super::page(&db, ada, true, None, 10).await.unwrap();
    assert_eq!(ids(&unread), [n3, n1, n0]);
    assert_eq!(
        ids(&super::page(&db, ada, true, Some(n3), 1).await.unwrap()),
        [n1]
    );

    let mut tx = db.begin().await.unwrap();
    assert_eq!(super::mark_all_read(&mut tx, ada, at(30)).await.unwrap(), 3);
    assert_eq!(super::mark_all_read(&mut tx, ada, at(40)).await.unwrap(), 0);
    tx.commit().await.unwrap();
    let all = super::page(&db, ada, false, None, 10).await.unwrap();
    let read: Vec<Option<OffsetDateTime>> = all.iter().map(|n| n.read_at).collect();
    let (ten, thirty) = (Some(stored(at(10))), Some(stored(at(30))));
    assert_eq!(read, [thirty, ten, thirty, thirty]);
    assert!(
        super::page(&db, ada, true, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(&super::page(&db, bob, true, None, 10).await.unwrap()),
        [bobs],
        "Bob's stays unread"
    );

    // A stream reads `PAGE` at a time.
    let carol = Uuid::now_v7();
    let mut tx = db.begin().await.unwrap();
    for n in 0..=PAGE {
        let message = message("order.step", &format!("Many {n}"));
        super::insert(&mut tx, carol, &message, order, cause(false), at(0))
            .await
            .unwrap()
            .unwrap();
    }
    tx.commit().await.unwrap();
    let head = super::newer(&db, carol, None).await.unwrap();
    assert_eq!(head.len(), PAGE);
    assert_eq!(head[0].title, "Many 0");
    let tail = super::newer(&db, carol, Some(head[PAGE - 1].id))
        .await
        .unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].title, format!("Many {PAGE}"));
}
backend_test!(inbox_pages, the_inbox_pages_streams_and_is_marked_read);

async fn order_parties_are_remembered(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let (order, lone, unknown) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let parties = Parties {
        customer_id: Uuid::now_v7(),
        merchant_id: Uuid::now_v7(),
        staff: vec![Uuid::now_v7(), Uuid::now_v7()],
        courier_id: None,
    };
    let alone = Parties {
        staff: Vec::new(),
        ..parties.clone()
    };

    let mut tx = db.begin().await.unwrap();
    super::remember_parties(&mut tx, order, &parties)
        .await
        .unwrap();
    super::remember_parties(&mut tx, lone, &alone)
        .await
        .unwrap();
    let other = Parties {
        customer_id: Uuid::now_v7(),
        staff: vec![Uuid::now_v7()],
        ..parties.clone()
    };
    super::remember_parties(&mut tx, order, &other)
        .await
        .unwrap();
    assert_eq!(
        super::parties(&mut tx, order).await.unwrap(),
        Some(parties.clone()),
        "the first are kept"
    );
    assert_eq!(super::parties(&mut tx, lone).await.unwrap(), Some(alone));
    assert_eq!(super::parties(&mut tx, unknown).await.unwrap(), None);
    tx.commit().await.unwrap();
    let (staff,): (String,) = db
        .fetch_one(
            "SELECT staff FROM order_parties WHERE order_id = $1",
            params![order],
        )
        .await
        .unwrap();
    let staff: Vec<Uuid> = serde_json::from_str(&staff).unwrap();
    assert_eq!(staff, parties.staff, "a JSON array of ids");

    let courier = Uuid::now_v7();
    let mut tx = db.begin().await.unwrap();
    super::remember_courier(&mut tx, order, courier)
        .await
        .unwrap();
    super::remember_courier(&mut tx, unknown, courier)
        .await
        .unwrap();
    assert_eq!(
        super::parties(&mut tx, order).await.unwrap(),
        Some(Parties {
            courier_id: Some(courier),
            ..parties.clone()
        })
    );
    assert_eq!(
        super::parties(&mut tx, unknown).await.unwrap(),
        None,
        "a courier makes no parties"
    );
    assert_eq!(
        super::parties(&mut tx, lone)
            .await
            .unwrap()
            .unwrap()
            .courier_id,
        None
    );
    tx.commit().await.unwrap();
    let again = Uuid::now_v7();
    let mut tx = db.begin().await.unwrap();
    super::remember_courier(&mut tx, order, again)
        .await
        .unwrap();
    let now = super::parties(&mut tx, order).await.unwrap().unwrap();
    assert_eq!(now.courier_id, Some(again), "another courier took it");
    tx.commit().await.unwrap();
}
backend_test!(order_parties, order_parties_are_remembered);

fn sorted(mut chosen: Vec<(Topic, Channels)>) -> Vec<(Topic, Channels)> {
    chosen.sort_by_key(|(topic, _)| *topic);
    chosen
}

async fn channels_are_chosen_per_topic(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let none = Channels {
        email: false,
        sms: false,
    };
    let text_only = Channels {
        email: false,
        sms: true,
    };
    let both = Channels {
        email: true,
        sms: true,
    };

    assert!(preferences::chosen(&db, ada).await.unwrap().is_empty());
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        preferences::channels(&mut tx, ada, Topic::Payments)
            .await
            .unwrap(),
        Channels::DEFAULT
    );
    preferences::choose(&mut tx, ada, Topic::Payments, text_only, at(0))
        .await
        .unwrap();
    preferences::choose(&mut tx, ada, Topic::OrderUpdates, none, at(0))
        .await
        .unwrap();
    preferences::choose(&mut tx, bob, Topic::Payments, both, at(0))
        .await
        .unwrap();
    assert_eq!(
        preferences::channels(&mut tx, ada, Topic::Payments)
            .await
            .unwrap(),
        text_only,
        "read in its transaction"
    );
    let inside = preferences::chosen(&mut tx, ada).await.unwrap();
    assert_eq!(
        sorted(inside),
        [(Topic::OrderUpdates, none), (Topic::Payments, text_only)]
    );
    tx.commit().await.unwrap();

    // Choosing again replaces the choice.
    let mut tx = db.begin().await.unwrap();
    preferences::choose(&mut tx, ada, Topic::Payments, both, at(10))
        .await
        .unwrap();
    assert_eq!(
        preferences::channels(&mut tx, ada, Topic::Payments)
            .await
            .unwrap(),
        both
    );
    assert_eq!(
        preferences::channels(&mut tx, ada, Topic::DeliveryOffers)
            .await
            .unwrap(),
        Channels::DEFAULT,
        "not chosen"
    );
    assert_eq!(
        preferences::channels(&mut tx, bob, Topic::OrderUpdates)
            .await
            .unwrap(),
        Channels::DEFAULT
    );
    tx.commit().await.unwrap();
    assert_eq!(
        sorted(preferences::chosen(&db, ada).await.unwrap()),
        [(Topic::OrderUpdates, none), (Topic::Payments, both)]
    );
    assert_eq!(
        preferences::chosen(&db, bob).await.unwrap(),
        [(Topic::Payments, both)]
    );
    let (email, sms, updated_at): (bool, bool, OffsetDateTime) = db
        .fetch_one(
            "SELECT email, sms, updated_at FROM notification_preferences
             WHERE user_id = $1 AND topic = $2",
            params![ada, "payments"],
        )
        .await
        .unwrap();
    assert_eq!((email, sms, updated_at), (true, true, stored(at(10))));

    // A topic this version no longer knows is nobody's choice.
    db.execute(
        "INSERT INTO notification_preferences (user_id, topic, email, sms, updated_at)
         VALUES ($1, $2, $3, $4, $5)",
        params![ada, "newsletters", true, false, at(0)],
    )
    .await
    .unwrap();
    assert_eq!(
        sorted(preferences::chosen(&db, ada).await.unwrap()),
        [(Topic::OrderUpdates, none), (Topic::Payments, both)]
    );
}
backend_test!(channels_chosen, channels_are_chosen_per_topic);

fn text(notification_id: Uuid, user_id: Uuid, error: Option<&str>, secs: i64) -> SmsRecord {
    SmsRecord {
        id: Uuid::now_v7(),
        notification_id,
        user_id,
        phone: "+4915112345678".into(),
        body: "Your order is on its way.".into(),
        provider: "sandbox".into(),
        error: error.map(Into::into),
        at: stored(at(secs)),
    }
}

async fn statuses(db: &Db, table: &str) -> Vec<(Uuid, String, Option<String>)> {
    db.fetch_all(
        &format!("SELECT id, status, error FROM {table} ORDER BY id"),
        params![],
    )
    .await
    .unwrap()
}

async fn texts_and_emails_are_recorded(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let (ada, bob, notification) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let sent = SmsRecord {
        // Written with sub-millisecond digits, read back without them.
        at: at(0),
        ..text(notification, ada, None, 0)
    };
    let failed = text(notification, ada, Some("no signal"), 1);
    let bobs = text(Uuid::now_v7(), bob, None, 2);
    let recorded = text(notification, ada, Some("provider down"), 3);

    let mut tx = db.begin().await.unwrap();
    for record in [&sent, &failed, &bobs] {
        sms::insert(&mut tx, record).await.unwrap();
    }
    Attempt::Sms(recorded.clone())
        .record(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let sent_read = SmsRecord {
        at: stored(at(0)),
        ..sent.clone()
    };
    assert_eq!(
        sms::page(&db, None, None, 10).await.unwrap(),
        [
            recorded.clone(),
            bobs.clone(),
            failed.clone(),
            sent_read.clone()
        ]
    );
    assert_eq!(
        sms::page(&db, Some(ada), None, 10).await.unwrap(),
        [recorded.clone(), failed.clone(), sent_read.clone()]
    );
    assert_eq!(
        sms::page(&db, Some(ada), None, 2).await.unwrap(),
        [recorded.clone(), failed.clone()]
    );
    assert_eq!(
        sms::page(&db, Some(ada), Some(failed.id), 10)
            .await
            .unwrap(),
        std::slice::from_ref(&sent_read)
    );
    assert_eq!(
        sms::page(&db, None, Some(bobs.id), 10).await.unwrap(),
        [failed.clone(), sent_read.clone()]
    );
    assert!(
        sms::page(&db, Some(Uuid::now_v7()), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let status =
        |record: &SmsRecord, status: &str| (record.id, status.to_owned(), record.error.clone());
    assert_eq!(
        statuses(&db, "sms_messages").await,
        [
            status(&sent, "sent"),
            status(&failed, "failed"),
            status(&bobs, "sent"),
            status(&recorded, "failed"),
        ]
    );

    let mut tx = db.begin().await.unwrap();
    super::email_attempt(&mut tx, notification, None, at(4))
        .await
        .unwrap();
    Attempt::Email {
        notification_id: notification,
        error: "mailbox full".into(),
        at: at(5),
    }
    .record(&mut tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let emails: Vec<(Uuid, String, Option<String>, OffsetDateTime)> = db
        .fetch_all(
            "SELECT notification_id, status, error, at FROM email_attempts ORDER BY id",
            params![],
        )
        .await
        .unwrap();
    assert_eq!(
        emails,
        [
            (notification, "sent".to_owned(), None, stored(at(4))),
            (
                notification,
                "failed".to_owned(),
                Some("mailbox full".to_owned()),
                stored(at(5))
            ),
        ]
    );
}
backend_test!(texts_and_emails, texts_and_emails_are_recorded);

type Line = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    OffsetDateTime,
    Option<String>,
);

fn line(sent: &timeline::Sent) -> Line {
    let sent = sent.clone();
    (
        sent.channel,
        sent.kind,
        sent.title,
        sent.recipient,
        sent.status,
        sent.error,
        sent.at,
        sent.trace_id,
    )
}

fn expected(
    channel: &str,
    kind: &str,
    title: &str,
    recipient: &str,
    error: Option<&str>,
    secs: i64,
    traced: bool,
) -> Line {
    (
        channel.to_owned(),
        kind.to_owned(),
        title.to_owned(),
        recipient.to_owned(),
        if error.is_some() { "failed" } else { "sent" }.to_owned(),
        error.map(Into::into),
        stored(at(secs)),
        traced.then(|| "4bf92f3577b34da6a3ce929d0e0e4736".to_owned()),
    )
}

async fn an_orders_timeline_gathers_every_channel(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let (order, other_order) = (Uuid::now_v7(), Uuid::now_v7());
    let (customer, merchant, staff, courier) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let mut tx = db.begin().await.unwrap();
    let parties = Parties {
        customer_id: customer,
        merchant_id: merchant,
        staff: vec![Uuid::now_v7(), staff],
        courier_id: None,
    };
    super::remember_parties(&mut tx, order, &parties)
        .await
        .unwrap();
    super::remember_courier(&mut tx, order, courier)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let placed = message("order.placed", "Order placed");
    let new = message("order.new", "A new order");
    let offered = message("delivery.offered", "A delivery for you");
    let to_customer = file(&db, customer, &placed, order, cause(true), at(0)).await;
    let to_staff = file(&db, staff, &new, order, cause(false), at(1)).await;
    let to_courier = file(&db, courier, &offered, order, cause(true), at(2)).await;
    let elsewhere = file(&db, customer, &placed, other_order, cause(false), at(3)).await;

    let mut tx = db.begin().await.unwrap();
    super::email_attempt(&mut tx, to_customer, None, at(5))
        .await
        .unwrap();
    super::email_attempt(&mut tx, to_staff, Some("mailbox full"), at(6))
        .await
        .unwrap();
    super::email_attempt(&mut tx, elsewhere, None, at(6))
        .await
        .unwrap();
    sms::insert(&mut tx, &text(to_customer, customer, None, 7))
        .await
        .unwrap();
    Attempt::Sms(text(to_courier, courier, Some("no signal"), 8))
        .record(&mut tx)
        .await
        .unwrap();
    sms::insert(&mut tx, &text(elsewhere, customer, None, 9))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let sent = timeline::sent(&db, order).await.unwrap();
    let lines: Vec<Line> = sent.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            expected(
                "in_app",
                "order.placed",
                "Order placed",
                "customer",
                None,
                0,
                true
            ),
            expected(
                "in_app",
                "order.new",
                "A new order",
                "staff",
                None,
                1,
                false
            ),
            expected(
                "in_app",
                "delivery.offered",
                "A delivery for you",
                "courier",
                None,
                2,
                true
            ),
            expected(
                "email",
                "order.placed",
                "Order placed",
                "customer",
                None,
                5,
                true
            ),
            expected(
                "email",
                "order.new",
                "A new order",
                "staff",
                Some("mailbox full"),
                6,
                false
            ),
            expected(
                "sms",
                "order.placed",
                "Order placed",
                "customer",
                None,
                7,
                true
            ),
            expected(
                "sms",
                "delivery.offered",
                "A delivery for you",
                "courier",
                Some("no signal"),
                8,
                true
            ),
        ]
    );
    assert_eq!(timeline::sent(&db, other_order).await.unwrap().len(), 3);
    assert!(
        timeline::sent(&db, Uuid::now_v7())
            .await
            .unwrap()
            .is_empty()
    );
}
backend_test!(order_timeline, an_orders_timeline_gathers_every_channel);

/// A database of the release before native types, with rows as it wrote them (text ids,
/// instants in epoch milliseconds, flags 0 and 1, JSON text), is migrated and read back
/// through the stores.
async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), crate::NAME, migrations)
        .await;
    let millis = |secs| ordo_kernel::time::to_millis(at(secs));
    let (customer, merchant, staff, courier, order) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let (to_customer, to_staff, placed_event) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let notification_sql = "INSERT INTO notifications (id, user_id, kind, title, body, order_id,
             event_id, read_at, created_at, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    db.execute(
        notification_sql,
        params![
            to_customer.to_string(),
            customer.to_string(),
            "order.placed",
            "Order placed",
            "Order placed, in full.",
            order.to_string(),
            placed_event.to_string(),
            Some(millis(10)),
            millis(0),
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
        ],
    )
    .await
    .unwrap();
    db.execute(
        notification_sql,
        params![
            to_staff.to_string(),
            staff.to_string(),
            "order.new",
            "A new order",
            "A new order, in full.",
            order.to_string(),
            Uuid::now_v7().to_string(),
            None::<i64>,
            millis(1),
            None::<String>,
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO order_parties (order_id, customer_id, merchant_id, staff, courier_id)
         VALUES ($1, $2, $3, $4, $5)",
        params![
            order.to_string(),
            customer.to_string(),
            merchant.to_string(),
            serde_json::to_string(&[staff]).unwrap(),
            courier.to_string(),
        ],
    )
    .await
    .unwrap();
    for (notification, status, error, secs) in [
        (to_customer, "sent", None, 5),
        (to_staff, "failed", Some("mailbox full"), 6),
    ] {
        db.execute(
            "INSERT INTO email_attempts (id, notification_id, status, error, at)
             VALUES ($1, $2, $3, $4, $5)",
            params![
                Uuid::now_v7().to_string(),
                notification.to_string(),
                status,
                error,
                millis(secs)
            ],
        )
        .await
        .unwrap();
    }
    let sms = text(to_customer, customer, None, 7);
    db.execute(
        "INSERT INTO sms_messages (id, notification_id, user_id, phone, body, provider, status,
             error, at)
         VALUES ($1, $2, $3, $4, $5, $6, 'sent', NULL, $7)",
        params![
            sms.id.to_string(),
            sms.notification_id.to_string(),
            sms.user_id.to_string(),
            sms.phone,
            sms.body,
            sms.provider,
            millis(7),
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO notification_preferences (user_id, topic, email, sms, updated_at)
         VALUES ($1, $2, $3, $4, $5)",
        params![customer.to_string(), "payments", 0_i64, 1_i64, millis(8)],
    )
    .await
    .unwrap();

    db.migrate(migrations).await.unwrap();

    assert_eq!(
        super::page(&db, customer, false, None, 10).await.unwrap(),
        [Notification {
            id: to_customer,
            user_id: customer,
            kind: "order.placed".into(),
            title: "Order placed".into(),
            body: "Order placed, in full.".into(),
            order_id: Some(order),
            read_at: Some(stored(at(10))),
            created_at: stored(at(0)),
        }]
    );
    assert!(
        super::page(&db, customer, true, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "read"
    );
    assert_eq!(
        ids(&super::page(&db, staff, true, None, 10).await.unwrap()),
        [to_staff],
        "unread"
    );
    let mut tx = db.begin().await.unwrap();
    let again = Cause {
        event_id: placed_event,
        trace: None,
    };
    let placed = message("order.placed", "Order placed");
    assert_eq!(
        super::insert(&mut tx, customer, &placed, order, again, at(20))
            .await
            .unwrap(),
        None,
        "an event filed before files nothing"
    );
    assert_eq!(
        super::parties(&mut tx, order).await.unwrap(),
        Some(Parties {
            customer_id: customer,
            merchant_id: merchant,
            staff: vec![staff],
            courier_id: Some(courier),
        })
    );
    tx.commit().await.unwrap();

    let text_only = Channels {
        email: false,
        sms: true,
    };
    assert_eq!(
        preferences::chosen(&db, customer).await.unwrap(),
        [(Topic::Payments, text_only)]
    );
    assert_eq!(
        sms::page(&db, Some(customer), None, 10).await.unwrap(),
        [sms]
    );
    let lines: Vec<Line> = timeline::sent(&db, order)
        .await
        .unwrap()
        .iter()
        .map(line)
        .collect();
    assert_eq!(
        lines,
        [
            expected(
                "in_app",
                "order.placed",
                "Order placed",
                "customer",
                None,
                0,
                true
            ),
            expected(
                "in_app",
                "order.new",
                "A new order",
                "staff",
                None,
                1,
                false
            ),
            expected(
                "email",
                "order.placed",
                "Order placed",
                "customer",
                None,
                5,
                true
            ),
            expected(
                "email",
                "order.new",
                "A new order",
                "staff",
                Some("mailbox full"),
                6,
                false
            ),
            expected(
                "sms",
                "order.placed",
                "Order placed",
                "customer",
                None,
                7,
                true
            ),
        ]
    );
}
backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
