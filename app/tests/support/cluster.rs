//! A platform as separate `ordo` processes on loopback ports: each service in processes of
//! its own (as many as asked), gateways in front, sharing PostgreSQL schemas, a NATS stream,
//! Redis keys and a key file of their own. Services start in the registry's order, each told where
//! the ones before it answer; every process is killed when the cluster goes.

use crate::support::{Server, listen, ordo, serving};
use ordo_testkit::Backend;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

/// Every service, in the order the registry adds them: each calls only ones before it.
pub const SERVICES: [&str; 11] = [
    "identity",
    "catalog",
    "inventory",
    "cart",
    "payments",
    "delivery",
    "notifications",
    "orders",
    "reviews",
    "analytics",
    "search",
];

/// How long the gateways have to see every service ready.
const READY_WITHIN: Duration = Duration::from_secs(120);

pub struct Cluster {
    /// The gateways' base URLs.
    pub gateways: Vec<String>,
    /// Each service's processes, with their base URLs.
    pub instances: BTreeMap<&'static str, Vec<(Server, String)>>,
    gateway_servers: Vec<Server>,
    stream: String,
    nats: String,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts `instances[service]` processes of each service (one when absent) and
    /// `gateways` gateways, and waits until every gateway sees every service ready.
    pub async fn start(
        backend: &Backend,
        nats: &str,
        redis: &str,
        instances: &[(&'static str, usize)],
        gateways: usize,
    ) -> Cluster {
        let Backend::Postgres { schema_prefix, .. } = backend else {
            panic!("a cluster shares PostgreSQL");
        };
        let dir = ordo_testkit::temp_dir();
        let stream = format!("CLUSTER_{schema_prefix}");
        let keys = dir.path().join("keys.json");
        let shared = |command: &mut Command| {
            command
                .env("ORDO_BUS_URL", nats)
                .env("ORDO_BUS__STREAM", &stream)
                .env("ORDO_BUS__SUBJECT_PREFIX", schema_prefix)
                .env("ORDO_REDIS_URL", redis)
                .env("ORDO_REDIS__PREFIX", format!("{schema_prefix}:"))
                .env("ORDO_IDENTITY__KEYS_FILE", &keys)
                .env("ORDO_DATABASE_MAX_CONNECTIONS", "2")
                // The gateways and the services' callers are on loopback: their
                // X-Forwarded-For names the client.
                .env("ORDO_HTTP__TRUSTED_PROXIES", "127.0.0.1");
        };
        let mut migrate = ordo(backend, dir.path());
        shared(&mut migrate);
        let migrated = migrate.arg("migrate").output().unwrap();
        assert!(migrated.status.success(), "{migrated:?}");

        let mut running: BTreeMap<&'static str, Vec<(Server, String)>> = BTreeMap::new();
        let located = |running: &BTreeMap<&'static str, Vec<(Server, String)>>,
                       command: &mut Command| {
            for (service, at) in running {
                let urls: Vec<&str> = at.iter().map(|(_, url)| url.as_str()).collect();
                command.env(
                    format!("ORDO_SERVICES__{}__URLS", service.to_uppercase()),
                    urls.join(","),
                );
            }
        };
        for service in SERVICES {
            let count = instances
                .iter()
                .find(|(name, _)| *name == service)
                .map_or(1, |(_, n)| *n);
            for i in 0..count {
                let data = dir.path().join(format!("{service}-{i}"));
                std::fs::create_dir_all(&data).unwrap();
                let mut command = ordo(backend, &data);
                shared(&mut command);
                located(&running, &mut command);
                command.env("ORDO_RUN", service);
                let started = listen(command);
                running.entry(service).or_default().push(started);
            }
        }
        let mut gateway_servers = Vec::new();
        let mut gateway_urls = Vec::new();
        for i in 0..gateways {
            let data = dir.path().join(format!("gateway-{i}"));
            std::fs::create_dir_all(&data).unwrap();
            let mut command = ordo(backend, &data);
            shared(&mut command);
            located(&running, &mut command);
            let (server, url) = serving(command, "gateway", "ordo gateway is serving on ");
            gateway_servers.push(server);
            gateway_urls.push(url);
        }
        let cluster = Cluster {
            gateways: gateway_urls,
            instances: running,
            gateway_servers,
            stream,
            nats: nats.to_owned(),
            _dir: dir,
        };
        cluster.until_ready().await;
        cluster
    }

    /// Waits until every gateway sees an instance of every service ready.
    async fn until_ready(&self) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        for gateway in &self.gateways {
            loop {
                let ready = http
                    .get(format!("{gateway}/readyz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ready {
                    break;
                }
                assert!(
                    started.elapsed() < READY_WITHIN,
                    "the cluster did not become ready"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Stops every process, and drops the cluster's stream.
    pub async fn stop(mut self) {
        self.gateway_servers.clear();
        self.instances.clear();
        if let Ok(client) = async_nats::connect(self.nats.as_str()).await {
            let _ = async_nats::jetstream::new(client)
                .delete_stream(&self.stream)
                .await;
        }
    }
}
