//! Adding a service: a toy one — one migration, one route, one subscription — joins the
//! platform with one line (`services.push(…)` here, a line in `registry.rs` for a real one).
//! Its route is in the OpenAPI document, and its handler receives the event its route
//! published, on both backends.

use axum::extract::State;
use axum::http::StatusCode;
use ordo_bus::{EventMeta, HandlerError, Outbox, Subscription};
use ordo_contracts::Event;
use ordo_db::{Db, FromRow, Migration, params};
use ordo_e2e::{TestApp, json_of};
use ordo_http::{Authenticated, Json, Path, Problem};
use ordo_kit::{Parts, Service};
use ordo_testkit::{Backend, backend_test};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_create_toys",
    sqlite: "CREATE TABLE toys (id TEXT PRIMARY KEY, name TEXT NOT NULL, seen INTEGER NOT NULL DEFAULT 0);",
    // The id is bound as a `Uuid`, which PostgreSQL compares only with a uuid column.
    postgres: "CREATE TABLE toys (id UUID PRIMARY KEY, name TEXT NOT NULL, seen INTEGER NOT NULL DEFAULT 0);",
}];

#[derive(Debug, Serialize, Deserialize)]
struct ToyMade {
    id: Uuid,
}

impl Event for ToyMade {
    const TYPE: &'static str = "toy.made";
    const VERSION: u32 = 1;
    const SOURCE: &'static str = "toys";
}

struct Toys {
    db: Db,
    outbox: Outbox,
}

fn toys() -> Service {
    Service::new("toys", MIGRATIONS, ordo_kit::Paths::default, |wiring| {
        let db = wiring.db().clone();
        let toys = Arc::new(Toys {
            db: db.clone(),
            outbox: wiring.outbox().clone(),
        });
        let seen = Subscription::new("toys-seen", db).on(&toys, |_, tx, made: ToyMade, _| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE toys SET seen = seen + 1 WHERE id = $1",
                    params![made.id],
                )
                .await
                .map(drop)
                .map_err(|error| HandlerError::Retry(error.to_string()))
            })
        });
        let routes = OpenApiRouter::new()
            .routes(routes!(make))
            .routes(routes!(look))
            .with_state(toys);
        Ok(Parts::routes(routes).subscriptions(vec![seen]))
    })
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewToy {
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct Toy {
    id: Uuid,
    name: String,
    /// How many times the subscription saw it made.
    seen: i64,
}

/// A toy's row.
#[derive(FromRow)]
struct ToyRow {
    name: String,
    seen: i64,
}

fn unexpected(error: impl std::error::Error + 'static) -> Problem {
    Problem::internal(&error)
}

/// Makes a toy.
#[utoipa::path(post, path = "/toys", tag = "toys", request_body = NewToy,
    responses((status = 201, description = "Made", body = Toy)))]
async fn make(
    State(toys): State<Arc<Toys>>,
    _caller: Authenticated,
    Json(toy): Json<NewToy>,
) -> Result<(StatusCode, Json<Toy>), Problem> {
    let id = Uuid::new_v4();
    let mut tx = toys.db.begin().await.map_err(unexpected)?;
    tx.execute(
        "INSERT INTO toys (id, name) VALUES ($1, $2)",
        params![id, toy.name],
    )
    .await
    .map_err(unexpected)?;
    toys.outbox
        .append(
            &mut tx,
            &id.to_string(),
            &ToyMade { id },
            &EventMeta::default(),
        )
        .await
        .map_err(unexpected)?;
    toys.outbox.commit(tx).await.map_err(unexpected)?;
    let made = Toy {
        id,
        name: toy.name,
        seen: 0,
    };
    Ok((StatusCode::CREATED, Json(made)))
}

/// A toy.
#[utoipa::path(get, path = "/toys/{id}", tag = "toys",
    responses((status = 200, description = "The toy", body = Toy)))]
async fn look(State(toys): State<Arc<Toys>>, Path(id): Path<Uuid>) -> Result<Json<Toy>, Problem> {
    let row: ToyRow = toys
        .db
        .fetch_optional("SELECT name, seen FROM toys WHERE id = $1", params![id])
        .await
        .map_err(unexpected)?
        .ok_or_else(|| Problem::not_found("no such toy"))?;
    Ok(Json(Toy {
        id,
        name: row.name,
        seen: row.seen,
    }))
}

async fn a_service_joins_with_one_line(backend: Backend) {
    let app = TestApp::spawn_adding(backend, |_| {}, |_| vec![toys()]).await;
    let document = json_of(app.api(Method::GET, "/openapi.json")).await;
    assert!(
        document["paths"]["/api/v1/toys"]["post"].is_object(),
        "{document}"
    );
    assert!(document["paths"]["/api/v1/toys/{id}"]["get"].is_object());

    let someone = app.signup("customer").await;
    let toy = json_of(
        app.as_user(&someone, Method::POST, "/toys")
            .json(&json!({"name": "kite"})),
    )
    .await;
    let path = format!("/toys/{}", toy["id"].as_str().unwrap());
    app.eventually("the subscription sees the toy made", || async {
        json_of(app.api(Method::GET, &path)).await["seen"] == 1
    })
    .await;
    app.stop().await;
}

backend_test!(toy_service, a_service_joins_with_one_line);
