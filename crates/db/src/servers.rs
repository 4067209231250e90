//! PostgreSQL URLs that name several servers, as libpq's do:
//! `postgres://ordo@db1:5432,db2:5432/ordo?target_session_attrs=read-write`. Connections go
//! to the first server, in the order given, that answers — and, with `read-write` (or
//! `primary`), that accepts writes. sqlx takes one host per URL, so the pool is pointed at
//! one server at a time, and a watcher points it at another when the one it uses stops
//! answering or stops accepting writes: a standby promoted after its primary died is found
//! within a second or two, with no restart and no change of configuration.

use crate::DbError;
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use std::str::FromStr;
use std::time::Duration;

/// How often the server in use is checked, and how long one check may take.
const CHECK_EVERY: Duration = Duration::from_secs(1);
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The servers a URL names, each as a URL of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Servers {
    /// One URL per server, in the order given.
    urls: Vec<String>,
    /// `host:port` of each, for logs (the URLs hold the password).
    names: Vec<String>,
    /// Only a server that accepts writes will do (`target_session_attrs=read-write`).
    writable: bool,
}

impl Servers {
    /// Reads `postgres://[userinfo@]host[:port][,host[:port]…][/database][?params]`.
    pub(crate) fn parse(url: &str) -> Result<Servers, DbError> {
        let invalid = |why: &str| DbError::InvalidUrl(why.to_owned());
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("expected postgres://"))?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, hosts) = match authority.rfind('@') {
            Some(at) => (&authority[..=at], &authority[at + 1..]),
            None => ("", authority),
        };
        let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
        let mut writable = false;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some(("target_session_attrs", value)) => {
                    writable = match value {
                        "any" => false,
                        "read-write" | "primary" => true,
                        other => {
                            return Err(invalid(&format!(
                                "target_session_attrs={other} is not supported \
                                 (use read-write or any)"
                            )));
                        }
                    };
                }
                _ => kept.push(pair),
            }
        }
        let query = if kept.is_empty() {
            String::new()
        } else {
            format!("?{}", kept.join("&"))
        };
        let names: Vec<String> = hosts.split(',').map(str::to_owned).collect();
        if names.iter().any(String::is_empty) {
            return Err(invalid("a server in the list is empty"));
        }
        let urls = names
            .iter()
            .map(|host| format!("{scheme}://{userinfo}{host}{path}{query}"))
            .collect();
        Ok(Servers {
            urls,
            names,
            writable,
        })
    }

    /// Whether the URL is an ordinary one: one server, any session. Such a pool needs no
    /// watcher: sqlx reconnects to its one server by itself.
    pub(crate) fn is_plain(&self) -> bool {
        self.urls.len() == 1 && !self.writable
    }

    /// The first server, in order, that answers and will do; its index.
    pub(crate) async fn find(&self) -> Result<usize, sqlx::Error> {
        let mut last = None;
        for (i, url) in self.urls.iter().enumerate() {
            match tokio::time::timeout(CHECK_TIMEOUT, self.suits(url)).await {
                Ok(Ok(true)) => return Ok(i),
                Ok(Ok(false)) => {}
                Ok(Err(error)) => last = Some(error),
                Err(_) => {
                    last = Some(sqlx::Error::PoolTimedOut);
                }
            }
        }
        let why = match last {
            Some(error) if !self.writable => error.to_string(),
            Some(error) => format!("none accepts writes (last error: {error})"),
            None => "none accepts writes".to_owned(),
        };
        // An outage, not a mistake: a standby may be promoted any moment.
        Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotConnected,
            format!("no server of {} will do: {why}", self.names.join(",")),
        )))
    }

    async fn suits(&self, url: &str) -> Result<bool, sqlx::Error> {
        let mut connection = PgConnectOptions::from_str(url)?.connect().await?;
        let suits = !self.writable || accepts_writes(&mut connection).await?;
        sqlx::Connection::close(connection).await?;
        Ok(suits)
    }

    pub(crate) fn url(&self, index: usize) -> &str {
        &self.urls[index]
    }

    pub(crate) fn name(&self, index: usize) -> &str {
        &self.names[index]
    }

    /// Keeps `pool` on a server that will do, checking every second, until the pool is
    /// closed or dropped everywhere else (the watcher holds it weakly through `alive`);
    /// tells `moved` the server's name at each move.
    pub(crate) fn watch(
        self,
        service: String,
        mut current: usize,
        moved: tokio::sync::watch::Sender<String>,
        alive: impl Fn() -> Option<PgPool> + Send + 'static,
    ) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECK_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(pool) = alive() else { return };
                if pool.is_closed() {
                    return;
                }
                if tokio::time::timeout(CHECK_TIMEOUT, self.serves(&pool))
                    .await
                    .is_ok_and(|serves| serves)
                {
                    continue;
                }
                match self.find().await {
                    Ok(found) if found == current => {}
                    Ok(found) => match PgConnectOptions::from_str(self.url(found)) {
                        Ok(options) => {
                            tracing::warn!(
                                service,
                                from = self.names[current],
                                to = self.names[found],
                                "database: moved to another server"
                            );
                            metrics::counter!("db_server_switches_total", "service" => service.clone())
                                .increment(1);
                            pool.set_connect_options(options);
                            current = found;
                            moved.send_replace(self.names[found].clone());
                        }
                        Err(error) => tracing::error!(service, %error, "database URL"),
                    },
                    Err(error) => tracing::warn!(service, %error, "database: no server will do"),
                }
            }
        });
    }

    /// Whether the pool's server answers (and accepts writes, when that is asked).
    async fn serves(&self, pool: &PgPool) -> bool {
        let Ok(mut connection) = pool.acquire().await else {
            return false;
        };
        !self.writable || accepts_writes(&mut connection).await.unwrap_or(false)
    }
}

/// What libpq asks for `read-write`: a standby, or a primary told to refuse writes,
/// answers `on`.
async fn accepts_writes(connection: &mut PgConnection) -> Result<bool, sqlx::Error> {
    let read_only: String = sqlx::query_scalar("SHOW transaction_read_only")
        .fetch_one(connection)
        .await?;
    Ok(read_only == "off")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_gets_a_url_of_its_own_without_the_session_attribute() {
        let servers = Servers::parse(
            "postgres://ordo:p%40ss@db1:5432,db2,[::1]:5433/shop?sslmode=prefer&target_session_attrs=read-write&application_name=ordo_orders",
        )
        .unwrap();
        assert_eq!(
            servers.urls,
            [
                "postgres://ordo:p%40ss@db1:5432/shop?sslmode=prefer&application_name=ordo_orders",
                "postgres://ordo:p%40ss@db2/shop?sslmode=prefer&application_name=ordo_orders",
                "postgres://ordo:p%40ss@[::1]:5433/shop?sslmode=prefer&application_name=ordo_orders",
            ]
        );
        assert_eq!(servers.names, ["db1:5432", "db2", "[::1]:5433"]);
        assert!(servers.writable);
        assert!(!servers.is_plain());
    }

    #[test]
    fn one_server_and_any_session_is_a_plain_url() {
        let servers = Servers::parse("postgres://db/ordo").unwrap();
        assert_eq!(servers.urls, ["postgres://db/ordo"]);
        assert!(servers.is_plain());
        let servers = Servers::parse("postgresql://db?target_session_attrs=any").unwrap();
        assert_eq!(servers.urls, ["postgresql://db"]);
        assert!(servers.is_plain());
    }

    #[test]
    fn unsupported_attributes_and_empty_servers_are_refused() {
        for url in [
            "postgres://db1,db2/ordo?target_session_attrs=prefer-standby",
            "postgres://db1,,db2/ordo",
            "postgres://db1,/ordo",
            "db1,db2",
        ] {
            assert!(
                matches!(Servers::parse(url), Err(DbError::InvalidUrl(_))),
                "{url}"
            );
        }
    }
}
