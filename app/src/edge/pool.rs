//! The instances of one service as the gateway sees them: which there are (a name in the
//! configuration stands for every address it resolves to, looked up again every probe, as
//! a Kubernetes headless Service is found), which are fit to take requests (probed on
//! `/readyz`, and put aside after failures in a row), and which to send the next request to
//! (the less busy of two picked at random). The names configured may change while it runs
//! (`reconfigure`, at a `SIGHUP`).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Failures in a row (a refused connection, a 5xx) that put an instance aside until a
/// probe finds it ready again.
const EJECT_AFTER: u32 = 3;

/// How long a readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Instance {
    /// `http://host:port`, without a trailing slash.
    pub base: String,
    in_flight: AtomicUsize,
    failed_in_a_row: AtomicU32,
    ejected: AtomicBool,
}

impl Instance {
    fn new(base: &str) -> Self {
        Instance {
            base: base.trim_end_matches('/').to_owned(),
            in_flight: AtomicUsize::new(0),
            failed_in_a_row: AtomicU32::new(0),
            ejected: AtomicBool::new(false),
        }
    }

    #[must_use]
    pub fn is_ejected(&self) -> bool {
        self.ejected.load(Ordering::Relaxed)
    }

    /// A request to it starts; it ends when the guard goes.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    pub fn succeeded(&self) {
        self.failed_in_a_row.store(0, Ordering::Relaxed);
    }

    pub fn failed(&self) {
        let failures = self.failed_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= EJECT_AFTER && !self.ejected.swap(true, Ordering::Relaxed) {
            tracing::warn!(instance = %self.base, failures, "instance put aside after failures in a row");
        }
    }

    fn probed(&self, ready: bool) {
        if ready {
            self.failed_in_a_row.store(0, Ordering::Relaxed);
            if self.ejected.swap(false, Ordering::Relaxed) {
                tracing::info!(instance = %self.base, "instance ready again");
            }
        } else if !self.ejected.swap(true, Ordering::Relaxed) {
            tracing::warn!(instance = %self.base, "instance not ready; put aside");
        }
    }
}

/// A request in flight to an instance.
#[derive(Debug)]
pub struct InFlight(Arc<Instance>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The instances of one service.
#[derive(Debug)]
pub struct Pool {
    pub service: &'static str,
    /// The base URLs configured, names or addresses.
    configured: RwLock<Vec<String>>,
    instances: RwLock<Vec<Arc<Instance>>>,
}

/// The addresses a configured base URL stands for now: itself when it names an address,
/// every address its host resolves to otherwise; `None` when the name does not resolve.
async fn addresses_of(url: &str) -> Option<Vec<String>> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Some(vec![url.trim_end_matches('/').to_owned()]);
    }
    let port = parsed.port_or_known_default()?;
    let found = tokio::net::lookup_host((host, port)).await.ok()?;
    let mut bases: Vec<String> = found
        .map(|address| format!("{}://{address}", parsed.scheme()))
        .collect();
    bases.sort();
    bases.dedup();
    Some(bases)
}

impl Pool {
    #[must_use]
    pub fn new(service: &'static str, urls: &[String]) -> Self {
        Pool {
            service,
            configured: RwLock::new(urls.to_vec()),
            instances: RwLock::new(
                urls.iter()
                    .map(|url| Arc::new(Instance::new(url)))
                    .collect(),
            ),
        }
    }

    fn instances(&self) -> Vec<Arc<Instance>> {
        self.instances
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// From now on the instances are those `urls` name; they are looked up at the next
    /// `refresh`.
    pub fn reconfigure(&self, urls: &[String]) {
        *self
            .configured
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = urls.to_vec();
    }

    /// Looks the configured names up again: an address that came keeps its state (requests
    /// in flight, put aside or not), a new one joins, one that went leaves. A name that does
    /// not resolve this time keeps the addresses it had.
    pub async fn refresh(&self) {
        let current = self.instances();
        let configured = self
            .configured
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut fresh = Vec::new();
        for url in &configured {
            let bases = match addresses_of(url).await {
                Some(bases) => bases,
                None => {
                    tracing::warn!(service = self.service, %url, "cannot resolve an instance's name; keeping its addresses");
                    continue;
                }
            };
            for base in bases {
                let known = current.iter().find(|i| i.base == base).cloned();
                fresh.push(known.unwrap_or_else(|| Arc::new(Instance::new(&base))));
            }
        }
        if !fresh.is_empty() {
            *self
                .instances
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        }
    }

    /// Whether some instance is fit to take requests.
    #[must_use]
    pub fn has_ready(&self) -> bool {
        self.instances().iter().any(|i| !i.is_ejected())
    }

    /// The instance for the next request, other than `tried`: the less busy of two picked at
    /// random among those not put aside (among all of them when every one is).
    #[must_use]
    pub fn choose(&self, tried: Option<&Arc<Instance>>) -> Option<Arc<Instance>> {
        let instances = self.instances();
        let untried = |i: &&Arc<Instance>| tried.is_none_or(|t| !Arc::ptr_eq(i, t));
        let mut fit: Vec<&Arc<Instance>> = instances
            .iter()
            .filter(untried)
            .filter(|i| !i.is_ejected())
            .collect();
        if fit.is_empty() {
            fit = instances.iter().filter(untried).collect();
        }
        let chosen = match fit.len() {
            0 => return None,
            1 => fit[0],
            n => {
                let a = fastrand::usize(..n);
                let b = (a + 1 + fastrand::usize(..n - 1)) % n;
                let load = |i: &Arc<Instance>| i.in_flight.load(Ordering::Relaxed);
                if load(fit[b]) < load(fit[a]) {
                    fit[b]
                } else {
                    fit[a]
                }
            }
        };
        Some(chosen.clone())
    }

    /// Looks the instances up again and asks every one's `/readyz`, every `every`, for as
    /// long as it runs.
    pub async fn watch(self: Arc<Self>, http: reqwest::Client, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            self.refresh().await;
            let instances = self.instances();
            let probes = instances.iter().map(|instance| {
                let http = http.clone();
                async move {
                    let ready = http
                        .get(format!("{}/readyz", instance.base))
                        .timeout(PROBE_TIMEOUT)
                        .send()
                        .await
                        .is_ok_and(|response| response.status().is_success());
                    instance.probed(ready);
                }
            });
            futures_util::future::join_all(probes).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> Pool {
        let urls: Vec<String> = (0..n).map(|i| format!("http://10.0.0.{i}:8080")).collect();
        Pool::new("orders", &urls)
    }

    #[test]
    fn the_less_busy_of_two_is_chosen() {
        let pool = pool(2);
        let busy = pool.instances()[0].begin();
        for _ in 0..20 {
            assert_eq!(pool.choose(None).unwrap().base, "http://10.0.0.1:8080");
        }
        drop(busy);
    }

    #[test]
    fn failures_in_a_row_put_an_instance_aside_until_it_is_ready() {
        let pool = pool(2);
        let first = pool.instances()[0].clone();
        first.failed();
        first.failed();
        first.succeeded();
        first.failed();
        assert!(!first.is_ejected(), "not in a row");
        first.failed();
        first.failed();
        assert!(first.is_ejected());
        for _ in 0..20 {
            assert_eq!(pool.choose(None).unwrap().base, "http://10.0.0.1:8080");
        }
        first.probed(true);
        assert!(!first.is_ejected());
    }

    #[tokio::test]
    async fn a_name_stands_for_every_address_it_resolves_to() {
        let pool = Pool::new(
            "orders",
            &[
                "http://localhost:8081".into(),
                "http://10.0.0.9:8080/".into(),
            ],
        );
        let busy = pool.instances()[1].begin();
        pool.refresh().await;
        let bases: Vec<String> = pool.instances().iter().map(|i| i.base.clone()).collect();
        assert!(
            bases.contains(&"http://127.0.0.1:8081".to_owned()),
            "{bases:?}"
        );
        assert!(bases.iter().all(|b| !b.contains("localhost")), "{bases:?}");
        let kept = pool
            .instances()
            .into_iter()
            .find(|i| i.base == "http://10.0.0.9:8080")
            .unwrap();
        assert_eq!(
            kept.in_flight.load(Ordering::Relaxed),
            1,
            "an address keeps its state"
        );
        drop(busy);
        let unknown = Pool::new("orders", &["http://no-such-host.invalid:80".into()]);
        unknown.refresh().await;
        assert_eq!(
            unknown.instances().len(),
            1,
            "kept while it does not resolve"
        );
    }

    #[tokio::test]
    async fn reconfigured_instances_replace_the_old_and_an_address_kept_keeps_its_state() {
        let pool = pool(2);
        let kept = pool.instances()[1].clone();
        let busy = kept.begin();
        pool.reconfigure(&["http://10.0.0.1:8080".into(), "http://10.0.0.7:8080".into()]);
        assert_eq!(
            pool.instances().len(),
            2,
            "nothing changes before the refresh"
        );
        pool.refresh().await;
        let bases: Vec<String> = pool.instances().iter().map(|i| i.base.clone()).collect();
        assert_eq!(bases, ["http://10.0.0.1:8080", "http://10.0.0.7:8080"]);
        assert!(Arc::ptr_eq(&pool.instances()[0], &kept));
        drop(busy);
        for _ in 0..20 {
            assert_ne!(pool.choose(None).unwrap().base, "http://10.0.0.0:8080");
        }
    }

    #[test]
    fn a_retry_goes_elsewhere_and_all_aside_is_not_none() {
        let pool = pool(2);
        let tried = pool.choose(None).unwrap();
        for _ in 0..20 {
            assert!(!Arc::ptr_eq(&pool.choose(Some(&tried)).unwrap(), &tried));
        }
        for instance in &pool.instances() {
            instance.probed(false);
        }
        assert!(!pool.has_ready());
        assert!(
            pool.choose(None).is_some(),
            "every one aside: still try one"
        );
        assert!(pool.choose(Some(&tried)).is_some());
    }
}
