use crate::app::{Analytics, AppError};
use crate::domain::{Bucket, BucketSize, Period, Report, quantile};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ordo_http::{Authenticated, Json, Path, Problem, Query};
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// RFC 3339 instant or `YYYY-MM-DD` (midnight UTC), inclusive; default: 7 days (or 24
    /// hours) before `to`.
    #[param(
        pattern = r"^\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$"
    )]
    from: Option<String>,
    /// Exclusive; default: the end of the current hour.
    #[param(
        pattern = r"^\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$"
    )]
    to: Option<String>,
    /// `hour` (at most 31 days) or `day` (the default, at most 3 years).
    #[param(pattern = "^(hour|day)$")]
    bucket: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BucketView {
    #[serde(with = "time::serde::rfc3339")]
    start: OffsetDateTime,
    /// Carts that got their first product.
    carts_started: i64,
    /// Orders placed.
    orders: i64,
    /// Of them, placed from a cart.
    from_cart: i64,
    /// Orders from a cart per cart started; none without carts.
    conversion: Option<f64>,
    /// Captured minus refunded.
    revenue: Money,
    captured: Money,
    refunded: Money,
    /// The mean order total; none without orders.
    average_basket: Option<Money>,
    completed: i64,
    cancelled: i64,
    rejected: i64,
}

impl From<&Bucket> for BucketView {
    fn from(bucket: &Bucket) -> Self {
        let money = |amount| Money {
            amount,
            currency: bucket.currency.clone(),
        };
        BucketView {
            start: bucket.start,
            carts_started: bucket.counts.carts,
            orders: bucket.counts.orders,
            from_cart: bucket.counts.from_cart,
            conversion: bucket.conversion(),
            revenue: money(bucket.revenue()),
            captured: money(bucket.counts.captured),
            refunded: money(bucket.counts.refunded),
            average_basket: bucket.average_basket().map(money),
            completed: bucket.counts.completed,
            cancelled: bucket.counts.cancelled,
            rejected: bucket.counts.rejected,
        }
    }
}

/// How long a step took in one bucket (it counts in the bucket where the step ended).
#[derive(Debug, Serialize, ToSchema)]
pub struct TimingView {
    #[serde(with = "time::serde::rfc3339")]
    start: OffsetDateTime,
    /// `acceptance` (placed to accepted), `preparation` (accepted to ready) or `delivery`
    /// (picked up by the courier to completed).
    step: String,
    count: i64,
    /// Seconds, to within a fifth (durations are counted in bins of a log scale).
    p50_seconds: f64,
    p90_seconds: f64,
}

/// Orders that ended without reaching their customer, by cause, in one bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndingView {
    #[serde(with = "time::serde::rfc3339")]
    start: OffsetDateTime,
    /// `cancelled` or `rejected`.
    outcome: String,
    /// The reason given, in lower case, at most 64 characters.
    cause: String,
    count: i64,
}

/// A report: its period; its buckets, oldest first, one per currency that had anything
/// (empty ones are left out); the steps' durations and the endings' causes per bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    #[serde(with = "time::serde::rfc3339")]
    from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    to: OffsetDateTime,
    /// `hour` or `day`.
    bucket: String,
    buckets: Vec<BucketView>,
    timings: Vec<TimingView>,
    endings: Vec<EndingView>,
}

/// Per bucket start and step, the quantiles of its binned durations.
fn timing_views(timings: &[(OffsetDateTime, String, i64, i64)]) -> Vec<TimingView> {
    let mut views = Vec::new();
    let mut rest = timings;
    while let Some((start, step, _, _)) = rest.first() {
        let same = rest
            .iter()
            .take_while(|(s, k, _, _)| s == start && k == step)
            .count();
        let bins: Vec<(i64, i64)> = rest[..same].iter().map(|(_, _, b, n)| (*b, *n)).collect();
        views.push(TimingView {
            start: *start,
            step: step.clone(),
            count: bins.iter().map(|(_, n)| n).sum(),
            p50_seconds: quantile(&bins, 0.5).unwrap_or_default(),
            p90_seconds: quantile(&bins, 0.9).unwrap_or_default(),
        });
        rest = &rest[same..];
    }
    views
}

fn period(query: &ReportQuery) -> Result<Period, Problem> {
    Period::parse(
        query.from.as_deref(),
        query.to.as_deref(),
        query.bucket.as_deref(),
        ordo_kernel::time::now(),
    )
    .map_err(|v| Problem::from(AppError::Invalid(v)))
}

/// The report as JSON, or as CSV (the buckets' counters, one line per bucket and
/// currency) when the client accepts `text/csv`.
fn answer(headers: &HeaderMap, period: &Period, report: &Report) -> Response {
    let buckets = &report.buckets;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    if wants_csv {
        let mut csv = String::from(
            "start,currency,orders,from_cart,revenue,captured,refunded,average_basket,completed,cancelled,rejected,carts_started\n",
        );
        for b in buckets {
            let start = b
                .start
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let average = b
                .average_basket()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let c = &b.counts;
            let _ = writeln!(
                csv,
                "{start},{},{},{},{},{},{},{average},{},{},{},{}",
                b.currency,
                c.orders,
                c.from_cart,
                b.revenue(),
                c.captured,
                c.refunded,
                c.completed,
                c.cancelled,
                c.rejected,
                c.carts
            );
        }
        let content_type = HeaderValue::from_static("text/csv; charset=utf-8");
        return ([(header::CONTENT_TYPE, content_type)], csv).into_response();
    }
    Json(ReportView {
        from: period.from,
        to: period.to,
        bucket: match period.bucket {
            BucketSize::Hour => "hour",
            BucketSize::Day => "day",
        }
        .to_owned(),
        buckets: buckets.iter().map(BucketView::from).collect(),
        timings: timing_views(&report.timings),
        endings: report
            .causes
            .iter()
            .map(|(start, outcome, cause, count)| EndingView {
                start: *start,
                outcome: outcome.clone(),
                cause: cause.clone(),
                count: *count,
            })
            .collect(),
    })
    .into_response()
}

/// The whole platform's orders, revenue and outcomes per hour or day (operators);
/// `Accept: text/csv` for CSV.
#[utoipa::path(get, path = "/admin/reports/summary", tag = "reports", security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The report", content((ReportView = "application/json"), (String = "text/csv"))),
        (status = 403, description = "Not an operator", body = Problem),
        (status = 422, description = "Invalid period", body = Problem),
    ))]
pub async fn summary(
    State(analytics): State<Arc<Analytics>>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    Query(query): Query<ReportQuery>,
) -> Result<Response, Problem> {
    let period = period(&query)?;
    let report = analytics.summary(&caller, &period).await?;
    Ok(answer(&headers, &period, &report))
}

/// A merchant's orders, revenue and outcomes per hour or day (its staff and operators;
/// anyone else gets 404); `Accept: text/csv` for CSV.
#[utoipa::path(get, path = "/merchants/{id}/reports", tag = "reports", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Merchant id"), ReportQuery),
    responses(
        (status = 200, description = "The report", content((ReportView = "application/json"), (String = "text/csv"))),
        (status = 404, description = "No such merchant, or not the caller's", body = Problem),
        (status = 422, description = "Invalid period", body = Problem),
    ))]
pub async fn merchant(
    State(analytics): State<Arc<Analytics>>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, Problem> {
    let period = period(&query)?;
    let report = analytics.merchant_report(&caller, id, &period).await?;
    Ok(answer(&headers, &period, &report))
}
