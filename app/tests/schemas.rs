//! Every service's migrations, and the bus's, give the same schema on SQLite and on
//! PostgreSQL: the same tables, columns (kind of type as SQLite stores it, nullability),
//! primary keys, unique and plain indexes. Most migration files serve both dialects, so this
//! is what keeps a dialect override, or a dialect's reading of the same SQL, from drifting.

use ordo_app::{Config, Platform};
use ordo_db::{Db, Dialect};
use ordo_testkit::Backend;
use std::collections::BTreeMap;

/// One table as both dialects can describe it.
#[derive(Debug, PartialEq, Eq)]
struct Table {
    /// name -> (kind of type, nullable)
    columns: BTreeMap<String, (&'static str, bool)>,
    primary_key: Vec<String>,
    /// (columns, unique), sorted; indexes' names differ between dialects.
    indexes: Vec<(Vec<String>, bool)>,
}

impl Table {
    /// Indexes are compared in order, whatever order the dialect lists them in.
    fn new(
        columns: BTreeMap<String, (&'static str, bool)>,
        primary_key: Vec<String>,
        mut indexes: Vec<(Vec<String>, bool)>,
    ) -> Table {
        indexes.sort();
        Table {
            columns,
            primary_key,
            indexes,
        }
    }
}

/// The kind of a declared or reported column type, as SQLite stores it: PostgreSQL's
/// `uuid` and `jsonb` are SQLite's text, its `timestamptz` and `boolean` SQLite's integers
/// (epoch milliseconds, 0 and 1).
fn kind(declared: &str) -> &'static str {
    let declared = declared.to_ascii_lowercase();
    if declared.contains("int") || declared.contains("bool") || declared.starts_with("timestamp") {
        "integer"
    } else if declared.contains("char")
        || declared.contains("text")
        || declared == "uuid"
        || declared.starts_with("json")
    {
        "text"
    } else if declared.contains("doub") || declared.contains("real") || declared.contains("floa") {
        "real"
    } else {
        "other"
    }
}

fn split(columns: &str) -> Vec<String> {
    columns.split(',').map(str::to_owned).collect()
}

async fn strings(db: &Db, sql: &str, bind: Option<&str>) -> Vec<Vec<String>> {
    let params: Vec<ordo_db::Value> = bind.iter().map(ordo_db::Encode::encode).collect();
    let rows: Vec<Vec<ordo_db::Value>> = db
        .fetch_all(sql, &params)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|value| match value {
                    ordo_db::Value::Text(text) => text,
                    _ => String::new(),
                })
                .collect()
        })
        .collect()
}

async fn sqlite_schema(db: &Db) -> BTreeMap<String, Table> {
    let mut tables = BTreeMap::new();
    let names = strings(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        None,
    )
    .await;
    for name in names.into_iter().map(|row| row[0].clone()) {
        let info = strings(
            db,
            "SELECT name, type, CAST(\"notnull\" AS TEXT), CAST(pk AS TEXT) FROM pragma_table_info($1) ORDER BY pk",
            Some(&name),
        )
        .await;
        let mut primary_key = Vec::new();
        let mut columns = BTreeMap::new();
        for column in info {
            let in_key = column[3] != "0";
            if in_key {
                primary_key.push(column[0].clone());
            }
            // A key column is never null, whatever SQLite's rowid alias reports.
            let nullable = column[2] == "0" && !in_key;
            columns.insert(column[0].clone(), (kind(&column[1]), nullable));
        }
        let mut indexes = Vec::new();
        let list = strings(
            db,
            "SELECT name, CAST(\"unique\" AS TEXT), origin FROM pragma_index_list($1)",
            Some(&name),
        )
        .await;
        for index in list.into_iter().filter(|index| index[2] != "pk") {
            let columns = strings(
                db,
                "SELECT name FROM pragma_index_info($1) ORDER BY seqno",
                Some(&index[0]),
            )
            .await;
            let columns = columns.into_iter().map(|row| row[0].clone()).collect();
            indexes.push((columns, index[1] == "1"));
        }
        tables.insert(name, Table::new(columns, primary_key, indexes));
    }
    tables
}

async fn postgres_schema(db: &Db) -> BTreeMap<String, Table> {
    let mut tables = BTreeMap::new();
    let names = strings(
        db,
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        None,
    )
    .await;
    for name in names.into_iter().map(|row| row[0].clone()) {
        let info = strings(
            db,
            "SELECT column_name::text, data_type::text, is_nullable::text
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
            Some(&name),
        )
        .await;
        let columns = info
            .into_iter()
            .map(|c| (c[0].clone(), (kind(&c[1]), c[2] == "YES")))
            .collect();
        let indexes = strings(
            db,
            "SELECT array_to_string(array(
                 SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                 ORDER BY k.n), ','),
               CASE WHEN ix.indisunique THEN '1' ELSE '0' END,
               CASE WHEN ix.indisprimary THEN '1' ELSE '0' END
             FROM pg_index ix
             JOIN pg_class t ON t.oid = ix.indrelid
             JOIN pg_namespace s ON s.oid = t.relnamespace
             WHERE s.nspname = current_schema() AND t.relname = $1",
            Some(&name),
        )
        .await;
        let primary_key = indexes
            .iter()
            .find(|index| index[2] == "1")
            .map(|index| split(&index[0]))
            .unwrap_or_default();
        let indexes: Vec<(Vec<String>, bool)> = indexes
            .iter()
            .filter(|index| index[2] == "0")
            .map(|index| (split(&index[0]), index[1] == "1"))
            .collect();
        tables.insert(name, Table::new(columns, primary_key, indexes));
    }
    tables
}

/// The platform's databases on `backend`, every service's migrations applied.
async fn platform_on(backend: &Backend, dir: &std::path::Path) -> Platform {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        database_max_connections: 2,
        ..Config::default()
    };
    if let Backend::Postgres { url, schema_prefix } = backend {
        config.database_url = Some(ordo_kernel::Secret::new(url.clone()));
        config.database_schema_prefix.clone_from(schema_prefix);
    }
    Platform::open(config)
        .await
        .unwrap_or_else(|e| panic!("the platform on {}: {e:#}", backend.name()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_databases_get_the_same_schema() {
    let Some(postgres) = ordo_testkit::postgres("both_databases_get_the_same_schema") else {
        return;
    };
    let (lite_dir, pg_dir) = (ordo_testkit::temp_dir(), ordo_testkit::temp_dir());
    let on_sqlite = platform_on(&Backend::Sqlite, lite_dir.path()).await;
    let on_postgres = platform_on(&postgres, pg_dir.path()).await;
    assert_eq!(
        on_sqlite.databases().keys().collect::<Vec<_>>(),
        on_postgres.databases().keys().collect::<Vec<_>>()
    );
    for (service, sqlite) in on_sqlite.databases() {
        let pg = &on_postgres.databases()[service];
        assert_eq!(sqlite.dialect(), Dialect::Sqlite);
        assert_eq!(pg.dialect(), Dialect::Postgres);
        let (lite, post) = (sqlite_schema(sqlite).await, postgres_schema(pg).await);
        assert!(
            lite.contains_key("bus_outbox"),
            "{service}: the bus's tables too"
        );
        assert_eq!(
            lite.keys().collect::<Vec<_>>(),
            post.keys().collect::<Vec<_>>(),
            "{service}: the same tables"
        );
        for (table, on_sqlite) in &lite {
            assert_eq!(on_sqlite, &post[table], "{service}: table {table}");
        }
    }
}
