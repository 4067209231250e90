//! What the payments tests share: a database with the service's and the bus's tables, and
//! a provider that holds its calls at a door.

use crate::domain::CardDetails;
use crate::provider::{
    Authorization, Capture, PaymentProvider, ProviderError, ProviderFuture, Tokenized,
};
use ordo_db::Db;
use ordo_kernel::Money;
use ordo_testkit::Backend;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Notify, Semaphore};

/// A fresh payments database on `backend`, kept in the returned directory (SQLite).
pub async fn migrated(backend: &Backend) -> (tempfile::TempDir, Db) {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "payments").await;
    db.migrate(crate::migrations()).await.unwrap();
    db.migrate_component(ordo_bus::COMPONENT, &ordo_bus::migrations())
        .await
        .unwrap();
    (dir, db)
}

/// Which provider calls a [`Door`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Authorisations (voids are recorded too).
    Authorisations,
    Refunds,
}

/// A provider whose authorisations or refunds the test holds at the door — each waits for
/// a permit of `open` — or finds it down. An authorisation let through is approved, unless
/// its card's token is [`DECLINED`]. The calls it does not hold succeed at once (a capture,
/// a void), or are not in the test at all.
pub struct Door {
    held: Held,
    /// Idempotency keys of every held call (and, holding authorisations, every void).
    pub asked: Mutex<Vec<String>>,
    /// Notified as each held call arrives.
    pub arrived: Notify,
    pub open: Semaphore,
    pub down: AtomicBool,
}

impl Door {
    pub fn holding(held: Held) -> Self {
        Door {
            held,
            asked: Mutex::default(),
            arrived: Notify::new(),
            open: Semaphore::new(0),
            down: AtomicBool::new(false),
        }
    }

    /// A held call: recorded, then down or waiting for a permit.
    async fn pass(&self, idempotency_key: &str) -> Result<(), ProviderError> {
        self.asked.lock().unwrap().push(idempotency_key.to_owned());
        self.arrived.notify_waiters();
        if self.down.load(Ordering::SeqCst) {
            return Err(ProviderError::Unavailable("down".into()));
        }
        self.open.acquire().await.expect("the door").forget();
        Ok(())
    }

    fn not_in_this_test<T>() -> Result<T, ProviderError> {
        Err(ProviderError::Unavailable("not in this test".into()))
    }
}

/// The token of a card the door declines.
pub const DECLINED: &str = "tok_declined";

impl PaymentProvider for Door {
    fn name(&self) -> &'static str {
        "door"
    }

    fn tokenize<'a>(&'a self, _: &'a CardDetails) -> ProviderFuture<'a, Tokenized> {
        Box::pin(async { Door::not_in_this_test() })
    }

    fn authorize<'a>(
        &'a self,
        token: &'a str,
        _: &'a Money,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, Authorization> {
        Box::pin(async move {
            if self.held != Held::Authorisations {
                return Door::not_in_this_test();
            }
            self.pass(idempotency_key).await?;
            Ok(if token == DECLINED {
                Authorization::Declined {
                    code: "card_declined".into(),
                }
            } else {
                Authorization::Approved {
                    reference: format!("auth-{idempotency_key}"),
                }
            })
        })
    }

    fn capture<'a>(&'a self, _: &'a str, _: &'a Money, _: &'a str) -> ProviderFuture<'a, Capture> {
        Box::pin(async { Ok(Capture::Captured) })
    }

    fn refund<'a>(
        &'a self,
        _: &'a str,
        _: &'a Money,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ()> {
        Box::pin(async move {
            if self.held != Held::Refunds {
                return Door::not_in_this_test();
            }
            self.pass(idempotency_key).await
        })
    }

    fn void<'a>(&'a self, _: &'a str, idempotency_key: &'a str) -> ProviderFuture<'a, ()> {
        Box::pin(async move {
            if self.held == Held::Authorisations {
                self.asked.lock().unwrap().push(idempotency_key.to_owned());
            }
            Ok(())
        })
    }
}
