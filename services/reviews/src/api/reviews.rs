use crate::app::{Rated, Reviews};
use crate::domain::{Review, Status};
use axum::extract::State;
use axum::http::StatusCode;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, PageQuery, Path, Problem, Query, Trace};
use ordo_kernel::Violations;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    id: Uuid,
    order_id: Uuid,
    merchant_id: Uuid,
    product_ids: Vec<Uuid>,
    /// 1 to 5.
    rating: i64,
    comment: Option<String>,
    /// `pending`, `approved` (public) or `rejected`.
    status: String,
    /// The merchant's answer.
    answer: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    answered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<Review> for ReviewView {
    fn from(review: Review) -> Self {
        ReviewView {
            id: review.id,
            order_id: review.order_id,
            merchant_id: review.merchant_id,
            product_ids: review.product_ids,
            rating: review.rating,
            comment: review.comment,
            status: review.status.as_str().to_owned(),
            answer: review.answer,
            answered_at: review.answered_at,
            created_at: review.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewPage {
    items: Vec<ReviewView>,
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    /// Mean of the public ratings; 0 when there are none.
    average: f64,
    count: i64,
}

/// Public reviews of a merchant or a product, newest first, and their rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatedPage {
    rating: RatingView,
    items: Vec<ReviewView>,
    next_cursor: Option<String>,
}

impl From<Rated> for RatedPage {
    fn from(rated: Rated) -> Self {
        RatedPage {
            rating: RatingView {
                average: rated.rating.average,
                count: rated.rating.count,
            },
            items: rated
                .reviews
                .items
                .into_iter()
                .map(ReviewView::from)
                .collect(),
            next_cursor: rated.reviews.next_cursor,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReview {
    #[schema(minimum = 1, maximum = 5)]
    rating: i64,
    /// At most 2 000 characters; a review with a comment is public once a moderator
    /// approves it, one without at once.
    comment: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerReview {
    /// At most 2 000 characters.
    text: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQueue {
    /// `pending` (the default), `approved` or `rejected`.
    #[param(pattern = "^(pending|approved|rejected)$")]
    status: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Review a completed order of yours, once.
#[utoipa::path(post, path = "/orders/{id}/review", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = CreateReview,
    responses(
        (status = 201, description = "The review", body = ReviewView),
        (status = 403, description = "Not a customer", body = Problem),
        (status = 404, description = "No such order among yours", body = Problem),
        (status = 409, description = "Not completed yet, or reviewed already", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn create(
    State(reviews): State<Arc<Reviews>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(order_id): Path<Uuid>,
    Json(body): Json<CreateReview>,
) -> Result<(StatusCode, Json<ReviewView>), Problem> {
    let meta = EventMeta::from_trace(&trace);
    let review = reviews
        .review(&caller, order_id, body.rating, body.comment, &meta)
        .await?;
    Ok((StatusCode::CREATED, Json(review.into())))
}

/// A merchant's public reviews, newest first, and its rating.
#[utoipa::path(get, path = "/merchants/{id}/reviews", tag = "reviews",
    params(("id" = Uuid, Path, description = "Merchant id"), PageQuery),
    responses((status = 200, description = "A page of reviews and the rating", body = RatedPage)))]
pub async fn of_merchant(
    State(reviews): State<Arc<Reviews>>,
    Path(id): Path<Uuid>,
    Query(query): Query<PageQuery>,
) -> Result<Json<RatedPage>, Problem> {
    Ok(Json(reviews.of_merchant(id, query.page()?).await?.into()))
}

/// A product's public reviews, newest first, and its rating.
#[utoipa::path(get, path = "/products/{id}/reviews", tag = "reviews",
    params(("id" = Uuid, Path, description = "Product id"), PageQuery),
    responses((status = 200, description = "A page of reviews and the rating", body = RatedPage)))]
pub async fn of_product(
    State(reviews): State<Arc<Reviews>>,
    Path(id): Path<Uuid>,
    Query(query): Query<PageQuery>,
) -> Result<Json<RatedPage>, Problem> {
    Ok(Json(reviews.of_product(id, query.page()?).await?.into()))
}

/// Reviews by moderation status, newest first (administrators).
#[utoipa::path(get, path = "/admin/reviews", tag = "reviews", security(("bearer" = [])),
    params(ListQueue),
    responses(
        (status = 200, description = "A page of reviews", body = ReviewPage),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 422, description = "Unknown status", body = Problem),
    ))]
pub async fn queue(
    State(reviews): State<Arc<Reviews>>,
    Authenticated(caller): Authenticated,
    Query(query): Query<ListQueue>,
) -> Result<Json<ReviewPage>, Problem> {
    let page = ordo_http::page_request(query.limit, query.cursor.as_deref())?;
    let status = match query.status.as_deref() {
        None => Status::Pending,
        Some(text) => Status::parse(text).ok_or_else(|| {
            let mut v = Violations::new();
            v.add("status", "must be pending, approved or rejected");
            Problem::from(crate::app::AppError::Invalid(v))
        })?,
    };
    let found = reviews.moderation_queue(&caller, status, page).await?;
    Ok(Json(ReviewPage {
        items: found.items.into_iter().map(ReviewView::from).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// Make a pending review public (administrators).
#[utoipa::path(post, path = "/admin/reviews/{id}/approve", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "The review, approved", body = ReviewView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such review", body = Problem),
        (status = 409, description = "Moderated already", body = Problem),
    ))]
pub async fn approve(
    State(reviews): State<Arc<Reviews>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<ReviewView>, Problem> {
    let meta = EventMeta::from_trace(&trace);
    Ok(Json(reviews.approve(&caller, id, &meta).await?.into()))
}

/// Keep a pending review from being public (administrators).
#[utoipa::path(post, path = "/admin/reviews/{id}/reject", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "The review, rejected", body = ReviewView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such review", body = Problem),
        (status = 409, description = "Moderated already", body = Problem),
    ))]
pub async fn reject(
    State(reviews): State<Arc<Reviews>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<ReviewView>, Problem> {
    let meta = EventMeta::from_trace(&trace);
    Ok(Json(reviews.reject(&caller, id, &meta).await?.into()))
}

/// Answer a review of your merchant, once (its staff).
#[utoipa::path(post, path = "/reviews/{id}/answer", tag = "reviews", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = AnswerReview,
    responses(
        (status = 200, description = "The review with its answer", body = ReviewView),
        (status = 404, description = "No such review of the caller's merchant", body = Problem),
        (status = 409, description = "Answered already", body = Problem),
        (status = 422, description = "Invalid text", body = Problem),
    ))]
pub async fn answer(
    State(reviews): State<Arc<Reviews>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
    Json(body): Json<AnswerReview>,
) -> Result<Json<ReviewView>, Problem> {
    Ok(Json(reviews.answer(&caller, id, body.text).await?.into()))
}
