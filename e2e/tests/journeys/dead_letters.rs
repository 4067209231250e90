//! Operators and dead letters: an event a consumer rejects shows up under
//! `/admin/dead-letters`, can be replayed (handled once more) and discarded; nobody else
//! may touch them.

use ordo_bus::{Bus, EventMeta, HandlerError, Subscription};
use ordo_contracts::Event;
use ordo_e2e::{TestApp, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

#[derive(Debug, Serialize, Deserialize)]
struct Probed {
    note: String,
}

impl Event for Probed {
    const TYPE: &'static str = "probe.sent";
    const VERSION: u32 = 1;
    const SOURCE: &'static str = "e2e_probe";
}

/// Rejects everything, counting how often it was asked.
fn reject(asked: &AtomicU32) -> Result<(), HandlerError> {
    asked.fetch_add(1, Ordering::SeqCst);
    Err(HandlerError::reject("probe events are not accepted"))
}

async fn operators_list_replay_and_discard_dead_letters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A consumer of the platform's identity database, on the platform's bus settings.
    let db = app.databases["identity"].clone();
    let mut options = app.config.bus.options(app.config.bus_url.as_ref());
    options.poll_interval = Duration::from_millis(50);
    options.progress = app.progress();
    let mut bus = Bus::new(options);
    // The probe's own outbox: the platform relays its services' outboxes itself.
    let probe = ordo_db::Db::connect(&app.config.db_options(), "e2e_probe")
        .await
        .unwrap();
    probe
        .migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
        .await
        .unwrap();
    let outbox = bus.outbox("e2e_probe", probe.clone());
    let asked = Arc::new(AtomicU32::new(0));
    bus.subscribe(
        Subscription::new("e2e-rejecter", db.clone()).on(&asked, |asked, _tx, _: Probed, _| {
            Box::pin(std::future::ready(reject(asked)))
        }),
    )
    .unwrap();
    let bus = bus.start().await.unwrap();
    let mut tx = probe.begin().await.unwrap();
    let event_id = outbox
        .append(
            &mut tx,
            "probe-1",
            &Probed {
                note: "hello".into(),
            },
            &EventMeta::default(),
        )
        .await
        .unwrap();
    outbox.commit(tx).await.unwrap();

    let admin = app.admin().await;
    let list = |query: &'static str| {
        let request = app.as_user(&admin, Method::GET, &format!("/admin/dead-letters{query}"));
        async move { request.send().await.unwrap() }
    };
    app.eventually("the event is a dead letter", || async {
        let page: Value = list("?consumer=e2e-rejecter").await.json().await.unwrap();
        page["items"]
            .as_array()
            .is_some_and(|items| items.len() == 1)
    })
    .await;
    let page: Value = list("?consumer=e2e-rejecter").await.json().await.unwrap();
    let letter = &page["items"][0];
    assert_eq!(letter["event_id"], event_id.to_string());
    assert_eq!(letter["event_type"], "probe.sent");
    assert_eq!(letter["subject"], "probe-1");
    assert_eq!(letter["attempts"], 1, "a reject is final at once");
    assert_eq!(letter["last_error"], "probe events are not accepted");
    assert_eq!(letter["event"]["data"]["note"], "hello");
    assert_eq!(letter["event"]["specversion"], "1.0");
    let id = letter["id"].as_str().unwrap().to_owned();
    let other: Value = list("?consumer=someone-else").await.json().await.unwrap();
    assert_eq!(other["items"].as_array().unwrap().len(), 0);

    // Replay: handled once more, rejected again, back among the dead with two attempts.
    let before = asked.load(Ordering::SeqCst);
    let replay = app.as_user(
        &admin,
        Method::POST,
        &format!("/admin/dead-letters/{id}/replay"),
    );
    assert_eq!(replay.send().await.unwrap().status(), StatusCode::ACCEPTED);
    app.eventually("the replay is handled", || async {
        let letter: Value = app
            .as_user(&admin, Method::GET, &format!("/admin/dead-letters/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        letter["attempts"] == 2 && letter["replay_requested"] == false
    })
    .await;
    assert_eq!(
        asked.load(Ordering::SeqCst),
        before + 1,
        "handled exactly once more"
    );

    // Nobody else may look or act.
    let customer = app.signup("customer").await;
    for (method, path) in [
        (Method::GET, "/admin/dead-letters".to_owned()),
        (Method::GET, format!("/admin/dead-letters/{id}")),
        (Method::POST, format!("/admin/dead-letters/{id}/replay")),
        (Method::DELETE, format!("/admin/dead-letters/{id}")),
    ] {
        let response = app
            .as_user(&customer, method.clone(), &path)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        problem(response).await;
        let anonymous = app.api(method.clone(), &path).send().await.unwrap();
        assert_eq!(
            anonymous.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    let bad_limit = list("?limit=0").await;
    assert_eq!(bad_limit.status(), StatusCode::UNPROCESSABLE_ENTITY);
    problem(bad_limit).await;

    // Discard: gone for good.
    let discard = app.as_user(&admin, Method::DELETE, &format!("/admin/dead-letters/{id}"));
    assert_eq!(
        discard.send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    for (method, path) in [
        (Method::GET, format!("/admin/dead-letters/{id}")),
        (Method::POST, format!("/admin/dead-letters/{id}/replay")),
        (Method::DELETE, format!("/admin/dead-letters/{id}")),
    ] {
        let response = app
            .as_user(&admin, method.clone(), &path)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        problem(response).await;
    }
    bus.stop(Duration::from_secs(5)).await;
    app.stop().await;
}

backend_test!(
    dead_letters_journey,
    operators_list_replay_and_discard_dead_letters
);
