//! Typed statements and rows on both backends: ids, instants, JSON, NULLs of every kind,
//! derived rows, and transactions as closures that commit or roll back whole.

use ordo_db::{Db, Error, FromRow, Json, Migration, params};
use ordo_testkit::{Backend, backend_test};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

const CREATE: Migration = Migration {
    version: 1,
    name: "0001_create_parcels",
    sqlite: "CREATE TABLE parcels (id TEXT PRIMARY KEY, owner_id TEXT, weight BIGINT NOT NULL,
             ratio DOUBLE PRECISION, label TEXT, contents TEXT, sent_at BIGINT, fragile BIGINT NOT NULL);",
    postgres: "CREATE TABLE parcels (id uuid PRIMARY KEY, owner_id uuid, weight BIGINT NOT NULL,
               ratio DOUBLE PRECISION, label TEXT, contents jsonb, sent_at timestamptz, fragile boolean NOT NULL);",
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Contents {
    items: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, FromRow)]
struct Parcel {
    id: Uuid,
    owner_id: Option<Uuid>,
    weight: i64,
    ratio: Option<f64>,
    label: Option<String>,
    contents: Option<Json<Contents>>,
    sent_at: Option<OffsetDateTime>,
    fragile: bool,
}

const INSERT: &str =
    "INSERT INTO parcels (id, owner_id, weight, ratio, label, contents, sent_at, fragile)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const SELECT: &str =
    "SELECT id, owner_id, weight, ratio, label, contents, sent_at, fragile FROM parcels";

async fn insert(db: &Db, parcel: Parcel) -> Result<(), Error> {
    db.write(move |tx| {
        Box::pin(async move {
            let p = &parcel;
            tx.execute(
                INSERT,
                params![
                    p.id, p.owner_id, p.weight, p.ratio, p.label, p.contents, p.sent_at, p.fragile
                ],
            )
            .await
            .map(drop)
        })
    })
    .await
}

async fn rows_read_back_as_written(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "typed").await;
    db.migrate(&[CREATE]).await.unwrap();

    let full = Parcel {
        id: Uuid::now_v7(),
        owner_id: Some(Uuid::now_v7()),
        weight: 1200,
        ratio: Some(0.25),
        label: Some("fragile: glass".into()),
        contents: Some(Json(Contents {
            items: vec!["vase".into(), "cup".into()],
        })),
        sent_at: Some(time::macros::datetime!(2026-12-07 09:30:00.125 UTC)),
        fragile: true,
    };
    let empty = Parcel {
        id: Uuid::now_v7(),
        owner_id: None,
        weight: 0,
        ratio: None,
        label: None,
        contents: None,
        sent_at: None,
        fragile: false,
    };
    insert(&db, full.clone()).await.unwrap();
    insert(&db, empty.clone()).await.unwrap();

    let all: Vec<Parcel> = db
        .fetch_all(&format!("{SELECT} ORDER BY id"), params![])
        .await
        .unwrap();
    assert_eq!(all, vec![full.clone(), empty.clone()]);
    let found: Option<Parcel> = db
        .fetch_optional(&format!("{SELECT} WHERE id = $1"), params![empty.id])
        .await
        .unwrap();
    assert_eq!(found, Some(empty));
    let (count, heaviest): (i64, i64) = db
        .fetch_one("SELECT COUNT(*), MAX(weight) FROM parcels", params![])
        .await
        .unwrap();
    assert_eq!((count, heaviest), (2, 1200));
    let wrong = db
        .fetch_one::<(Uuid,)>("SELECT weight FROM parcels LIMIT 1", params![])
        .await
        .unwrap_err();
    assert!(matches!(wrong, Error::Decode { .. }), "{wrong}");
}
backend_test!(rows_read_back, rows_read_back_as_written);

async fn a_failed_write_keeps_nothing(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "typed").await;
    db.migrate(&[CREATE]).await.unwrap();
    let id = Uuid::now_v7();

    let failed: Result<(), Error> = db
        .write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO parcels (id, weight, fragile) VALUES ($1, 1, FALSE)",
                    params![id],
                )
                .await?;
                // The same id again: the whole transaction goes, the first insert with it.
                tx.execute(
                    "INSERT INTO parcels (id, weight, fragile) VALUES ($1, 2, FALSE)",
                    params![id],
                )
                .await?;
                Ok(())
            })
        })
        .await;
    assert!(failed.unwrap_err().is_unique_violation());
    let (count,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM parcels", params![])
        .await
        .unwrap();
    assert_eq!(count, 0);

    let changed = db
        .write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO parcels (id, weight, fragile) VALUES ($1, 1, FALSE)",
                    params![id],
                )
                .await?;
                tx.execute(
                    "UPDATE parcels SET weight = weight + $2 WHERE id = $1",
                    params![id, 4_i64],
                )
                .await
            })
        })
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let weight: Option<(i64,)> = db
        .fetch_optional("SELECT weight FROM parcels WHERE id = $1", params![id])
        .await
        .unwrap();
    assert_eq!(weight, Some((5,)));
}
backend_test!(failed_write, a_failed_write_keeps_nothing);
