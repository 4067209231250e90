//! Reports: a scripted day — two orders completed (captured), one of them partly
//! refunded, one rejected — reads back as the platform's and the merchant's figures, with
//! revenue equal to captures minus refunds, the steps' durations and the rejection's
//! cause, as JSON or CSV; only operators see the
//! platform's, only the merchant's staff (and operators) its own; a rebuild from the
//! journal gives the same figures.

use ordo_e2e::fixtures::{GOOD_CARD, card, complete, order_request, paid_order, shop};
use ordo_e2e::{TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The sums of a report's buckets: (orders, captured, refunded, revenue, completed,
/// rejected, carts started).
fn totals(report: &Value) -> (i64, i64, i64, i64, i64, i64, i64) {
    let mut sums = (0, 0, 0, 0, 0, 0, 0);
    for b in report["buckets"].as_array().unwrap() {
        let n = |v: &Value| v.as_i64().unwrap();
        sums.0 += n(&b["orders"]);
        sums.1 += n(&b["captured"]["amount"]);
        sums.2 += n(&b["refunded"]["amount"]);
        sums.3 += n(&b["revenue"]["amount"]);
        sums.4 += n(&b["completed"]);
        sums.5 += n(&b["rejected"]);
        sums.6 += n(&b["carts_started"]);
    }
    sums
}

async fn a_scripted_day_in_figures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let rival = app.signup("merchant").await;
    let customer = app.signup("customer").await;
    let admin = app.admin().await;

    let first = paid_order(&app, &shop, &customer, "day-1").await;
    complete(&app, &shop, &first).await;
    let second = paid_order(&app, &shop, &customer, "day-2").await;
    complete(&app, &shop, &second).await;
    let third = paid_order(&app, &shop, &customer, "day-3").await;
    // A cart started that was ordered, and one started that was not: conversion 1/2.
    let add = json!({"product_id": shop.soup.0, "quantity": 1});
    json_of(
        app.as_user(&customer, Method::POST, "/cart/items")
            .json(&add),
    )
    .await;
    let method = card(&app, &customer, GOOD_CARD).await;
    let from_cart = json!({"from_cart": true, "fulfilment": "pickup", "payment_method_id": method});
    json_of(order_request(&app, &customer, "day-4", &from_cart)).await;
    let browser = app.signup("customer").await;
    json_of(
        app.as_user(&browser, Method::POST, "/cart/items")
            .json(&add),
    )
    .await;
    let reject = app
        .as_user(
            &shop.owner,
            Method::POST,
            &format!("/orders/{third}/reject"),
        )
        .json(&json!({"reason": "Sold out"}));
    json_of(reject).await;
    let refund = app
        .as_user(
            &admin,
            Method::POST,
            &format!("/admin/orders/{first}/refund"),
        )
        .json(&json!({"amount": 300}));
    json_of(refund).await;

    // Yesterday to tomorrow, so that a day turning during the test changes nothing.
    let today = time::OffsetDateTime::now_utc().date();
    let period = format!(
        "from={}&to={}&bucket=day",
        today.previous_day().unwrap(),
        today.next_day().unwrap().next_day().unwrap()
    );
    let summary = format!("/admin/reports/summary?{period}");
    let expected = (4, 2 * 950, 300, 2 * 950 - 300, 2, 1, 2);
    app.eventually("the day's figures are counted", || async {
        totals(&json_of(app.as_user(&admin, Method::GET, &summary)).await) == expected
    })
    .await;
    let report = json_of(app.as_user(&admin, Method::GET, &summary)).await;
    assert_eq!(report["bucket"], "day");
    let bucket = &report["buckets"][0];
    assert_eq!(
        bucket["average_basket"],
        json!({"amount": 950, "currency": "EUR"}),
        "the average of the two completed orders, not of all four placed"
    );
    assert_eq!(bucket["conversion"], 0.5, "one of two carts was ordered");

    // The merchant's own: its staff and operators; anyone else is told it does not exist.
    let mine = format!("/merchants/{}/reports?{period}", shop.merchant_id);
    let own = json_of(app.as_user(&shop.owner, Method::GET, &mine)).await;
    assert_eq!(totals(&own), expected);
    assert_eq!(
        totals(&json_of(app.as_user(&admin, Method::GET, &mine)).await),
        expected
    );
    for who in [&rival, &customer] {
        let refused = app.as_user(who, Method::GET, &mine).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        problem(refused).await;
    }
    let not_admin = app
        .as_user(&shop.owner, Method::GET, &summary)
        .send()
        .await
        .unwrap();
    assert_eq!(not_admin.status(), StatusCode::FORBIDDEN);

    // CSV, one line per bucket under a header.
    let csv = app
        .as_user(&shop.owner, Method::GET, &mine)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("start,currency,orders,"));
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&row[1..7], ["EUR", "4", "1", "1600", "1900", "300"]);
    assert_eq!(row[11], "2", "carts started");

    // Periods that make no sense are refused, naming the field.
    for (query, field) in [
        ("from=2026-11-02&to=2026-11-01", "from"),
        ("bucket=week", "bucket"),
        ("from=yesterday", "from"),
        ("from=2026-01-01&to=2026-11-01&bucket=hour", "to"),
    ] {
        let path = format!("/admin/reports/summary?{query}");
        let bad = app
            .as_user(&admin, Method::GET, &path)
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(problem(bad).await["errors"][0]["field"], field, "{query}");
    }

    // The counters made again from the journal are the same.
    let facts = app
        .service::<ordo_analytics::Analytics>()
        .rebuild()
        .await
        .unwrap();
    assert!(facts >= 12, "every fact is journaled: {facts}");
    let again = json_of(app.as_user(&admin, Method::GET, &summary)).await;
    assert_eq!(again["buckets"], report["buckets"]);
    assert_eq!(again["timings"], report["timings"]);
    assert_eq!(again["endings"], report["endings"]);
}
backend_test!(scripted_day, a_scripted_day_in_figures);
