//! `/admin/dead-letters`: the events consumers gave up on, for operators to inspect,
//! replay (the consumer handles the event once more) or discard.

use axum::extract::State;
use axum::http::StatusCode;
use ordo_bus::{DeadLetter, DeadLetters};
use ordo_http::{Authenticated, FieldError, Json, Path, Problem, Query};
use ordo_kernel::Role;
use ordo_kernel::validation::verbatim;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router(letters: DeadLetters) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_dead_letters))
        .routes(routes!(get_dead_letter, discard_dead_letter))
        .routes(routes!(replay_dead_letter))
        .with_state(letters)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this consumer's dead letters.
    consumer: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    id: Uuid,
    consumer: String,
    event_id: Uuid,
    event_type: String,
    subject: String,
    /// The whole CloudEvent, as it was delivered.
    #[schema(value_type = Object)]
    event: serde_json::Value,
    attempts: u32,
    last_error: String,
    #[serde(with = "time::serde::rfc3339")]
    first_failed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    dead_at: OffsetDateTime,
    /// A replay was asked for and the consumer has not taken it yet.
    replay_requested: bool,
}

impl From<DeadLetter> for DeadLetterView {
    fn from(letter: DeadLetter) -> Self {
        DeadLetterView {
            id: letter.id,
            consumer: letter.consumer,
            event_id: letter.event_id,
            event_type: letter.event_type,
            subject: letter.subject,
            event: serde_json::to_value(&letter.envelope).unwrap_or_default(),
            attempts: letter.attempts,
            last_error: letter.last_error,
            first_failed_at: letter.first_failed_at,
            dead_at: letter.dead_at,
            replay_requested: letter.replay_requested,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterPage {
    items: Vec<DeadLetterView>,
    next_cursor: Option<String>,
}

fn no_such_letter() -> Problem {
    Problem::not_found("no such dead letter")
}

/// Dead letters of every consumer, newest first (administrators).
#[utoipa::path(get, path = "/admin/dead-letters", tag = "admin", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of dead letters", body = DeadLetterPage),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 422, description = "Bad limit, cursor or consumer", body = Problem),
    ))]
pub async fn list_dead_letters(
    State(letters): State<DeadLetters>,
    Authenticated(caller): Authenticated,
    Query(query): Query<ListQuery>,
) -> Result<Json<DeadLetterPage>, Problem> {
    ordo_http::require(&caller, &[Role::Admin])?;
    let page = ordo_http::page_request(query.limit, query.cursor.as_deref())?;
    if let Some(consumer) = &query.consumer {
        verbatim(consumer)
            .map_err(|e| Problem::validation(vec![FieldError::new("consumer", e)]))?;
    }
    let page = letters
        .list(query.consumer.as_deref(), page)
        .await
        .map_err(ordo_kit::storage_problem)?
        .map(DeadLetterView::from);
    Ok(Json(DeadLetterPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One dead letter (administrators).
#[utoipa::path(get, path = "/admin/dead-letters/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Dead letter id")),
    responses(
        (status = 200, description = "The dead letter", body = DeadLetterView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such dead letter", body = Problem),
    ))]
pub async fn get_dead_letter(
    State(letters): State<DeadLetters>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<DeadLetterView>, Problem> {
    ordo_http::require(&caller, &[Role::Admin])?;
    let letter = letters.get(id).await.map_err(ordo_kit::storage_problem)?;
    letter
        .map(|letter| Json(letter.into()))
        .ok_or_else(no_such_letter)
}

/// Ask the consumer to handle the event once more (administrators). The consumer takes
/// the request within a second; if the event fails again it returns to the dead letters.
#[utoipa::path(post, path = "/admin/dead-letters/{id}/replay", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Dead letter id")),
    responses(
        (status = 202, description = "Replay requested"),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such dead letter", body = Problem),
    ))]
pub async fn replay_dead_letter(
    State(letters): State<DeadLetters>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    ordo_http::require(&caller, &[Role::Admin])?;
    if letters
        .replay(id)
        .await
        .map_err(ordo_kit::storage_problem)?
    {
        tracing::info!(dead_letter = %id, by = %caller.user_id, "dead letter replay requested");
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(no_such_letter())
    }
}

/// Drop a dead letter for good (administrators).
#[utoipa::path(delete, path = "/admin/dead-letters/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Dead letter id")),
    responses(
        (status = 204, description = "Discarded"),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No such dead letter", body = Problem),
    ))]
pub async fn discard_dead_letter(
    State(letters): State<DeadLetters>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    ordo_http::require(&caller, &[Role::Admin])?;
    if letters
        .discard(id)
        .await
        .map_err(ordo_kit::storage_problem)?
    {
        tracing::info!(dead_letter = %id, by = %caller.user_id, "dead letter discarded");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_such_letter())
    }
}
