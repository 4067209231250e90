//! A PostgreSQL URL naming several servers (`postgres://h1,h2/db`), as libpq's do: a
//! service connects to the first that answers — with `target_session_attrs=read-write`, that
//! accepts writes — and moves to another when the one it uses goes away.

use ordo_db::{Db, params};
use ordo_testkit::{Backend, TcpProxy};
use std::time::Duration;

/// `url` (one server) with `hosts` in its place, and `params` added.
fn naming(url: &str, hosts: &[String], params: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
    let tail = rest.find(['/', '?']).map_or("", |at| &rest[at..]);
    let at = if userinfo.is_empty() { "" } else { "@" };
    let separator = if tail.contains('?') { '&' } else { '?' };
    format!(
        "{scheme}://{userinfo}{at}{}{tail}{separator}{params}",
        hosts.join(",")
    )
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap().to_owned()
}

async fn connected(backend: &Backend, dir: &std::path::Path) -> Db {
    Db::connect(&backend.db_options(dir), "servers")
        .await
        .unwrap()
}

async fn writes(db: &Db) -> Result<(), ordo_db::Error> {
    let mut tx = db.begin().await?;
    tx.execute("CREATE TABLE IF NOT EXISTS marks (n BIGINT)", params![])
        .await?;
    tx.execute("INSERT INTO marks (n) VALUES (1)", params![])
        .await?;
    tx.commit().await
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_passed_over() {
    let test = "a_server_that_does_not_answer_is_passed_over";
    let Some(Backend::Postgres { url, schema_prefix }) = ordo_testkit::postgres(test) else {
        return;
    };
    let nobody = format!("127.0.0.1:{}", ordo_testkit::free_port());
    let backend = Backend::Postgres {
        url: naming(&url, &[nobody, host_of(&url)], "target_session_attrs=any"),
        schema_prefix,
    };
    let dir = ordo_testkit::temp_dir();
    let db = connected(&backend, dir.path()).await;
    writes(&db).await.unwrap();
}

#[tokio::test]
async fn a_server_that_refuses_writes_is_passed_over() {
    let test = "a_server_that_refuses_writes_is_passed_over";
    let Some(Backend::Postgres { url, schema_prefix }) = ordo_testkit::postgres(test) else {
        return;
    };
    // Every session read-only: what a standby answers.
    let read_only = naming(
        &url,
        &[host_of(&url)],
        "options=-c%20default_transaction_read_only%3Don&target_session_attrs=read-write",
    );
    let dir = ordo_testkit::temp_dir();
    let refused = Backend::Postgres {
        url: read_only,
        schema_prefix: schema_prefix.clone(),
    };
    let error = Db::connect(&refused.db_options(dir.path()), "servers")
        .await
        .unwrap_err();
    assert!(error.is_unavailable(), "{error}");
    assert!(format!("{error}").contains("accepts writes"), "{error}");
}

#[tokio::test]
async fn the_pool_moves_to_the_next_server_when_its_server_goes() {
    let test = "the_pool_moves_to_the_next_server_when_its_server_goes";
    let Some(Backend::Postgres { url, schema_prefix }) = ordo_testkit::postgres(test) else {
        return;
    };
    // Two ways to the same server: the first, through a proxy, is cut.
    let first = TcpProxy::in_front_of(&url).await;
    let backend = Backend::Postgres {
        url: naming(
            &url,
            &[first.addr.to_string(), host_of(&url)],
            "target_session_attrs=read-write",
        ),
        schema_prefix,
    };
    let dir = ordo_testkit::temp_dir();
    let db = connected(&backend, dir.path()).await;
    writes(&db).await.unwrap();
    let mut server = db.server().expect("a URL naming two servers is watched");
    assert_eq!(*server.borrow_and_update(), first.addr.to_string());
    first.cut();
    // The watcher's next look is refused by the cut proxy, and the pool moves.
    tokio::time::timeout(Duration::from_secs(60), server.changed())
        .await
        .expect("the pool did not move to the second server")
        .unwrap();
    assert_eq!(*server.borrow(), host_of(&url));
    // The first server stays cut: the write goes to the second.
    writes(&db).await.unwrap();
    assert!(
        first.refused() > 0,
        "the first server was asked again after the cut"
    );
}
