//! Group commit for SQLite's one writer connection. Each transaction is a savepoint inside
//! the writer's current group transaction: it runs alone on the connection, releases its
//! savepoint when it commits (or rolls back to it, alone, when it fails) and then waits
//! while the committer task commits the whole group at once: one fsync for every
//! transaction that was waiting for the writer meanwhile, `synchronous=FULL` kept. A caller
//! learns its transaction committed only once the group's `COMMIT` has returned.
//!
//! The committer queues for the connection like every transaction (the lock is fair), so a
//! group holds exactly the transactions that reached the writer before it, and a steady
//! stream of writers cannot postpone a commit.

use sqlx::{AnyConnection, Connection, Executor};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

/// What the members of a group learn of its commit: nothing, or why it failed.
type Outcome = Result<(), Arc<str>>;

/// The writer of one SQLite database.
pub(crate) struct Writer {
    state: Arc<Mutex<State>>,
    pub(crate) counts: Arc<Counts>,
    /// Wakes the committer: a member is waiting, or a savepoint is to be rolled back.
    work: Arc<Notify>,
    acquire_timeout: Duration,
}

struct State {
    /// `None` once closed.
    conn: Option<AnyConnection>,
    /// The group's `BEGIN` was issued and neither committed nor rolled back.
    open: bool,
    /// Members whose savepoints were released, waiting for the group's commit.
    waiting: Vec<oneshot::Sender<Outcome>>,
    /// A member was dropped inside its savepoint; it is rolled back before anyone runs.
    abandoned: bool,
    service: String,
    counts: Arc<Counts>,
}

/// How many groups and transactions committed so far.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) groups: AtomicU64,
    pub(crate) transactions: AtomicU64,
    /// Time the connection was held by transactions, and by the group commits themselves.
    pub(crate) held_ns: AtomicU64,
    pub(crate) committing_ns: AtomicU64,
}

impl Counts {
    fn add(counter: &AtomicU64, since: Instant) {
        let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counter.fetch_add(ns, Ordering::Relaxed);
    }
}

impl Writer {
    /// Takes over `conn` and starts its committer.
    pub(crate) fn start(conn: AnyConnection, service: &str, acquire_timeout: Duration) -> Self {
        let counts = Arc::new(Counts::default());
        let state = Arc::new(Mutex::new(State {
            conn: Some(conn),
            open: false,
            waiting: Vec::new(),
            abandoned: false,
            service: service.to_owned(),
            counts: counts.clone(),
        }));
        let work = Arc::new(Notify::new());
        tokio::spawn(committer(Arc::downgrade(&state), work.clone()));
        Writer {
            state,
            counts,
            work,
            acquire_timeout,
        }
    }

    /// Waits for the connection and opens a savepoint in the current group.
    pub(crate) async fn begin(&self) -> Result<Member, sqlx::Error> {
        let locked = tokio::time::timeout(self.acquire_timeout, self.state.clone().lock_owned());
        let mut state = locked.await.map_err(|_| sqlx::Error::PoolTimedOut)?;
        let since = Instant::now();
        let opened = async {
            state.settle().await?;
            if !state.open {
                state.conn()?.execute("BEGIN IMMEDIATE").await?;
                state.open = true;
            }
            state.conn()?.execute("SAVEPOINT member").await?;
            Ok(())
        }
        .await;
        match opened {
            Ok(()) => Ok(Member {
                guard: Some(state),
                work: self.work.clone(),
                since,
            }),
            Err(error) => {
                drop(state);
                self.work.notify_one();
                Err(error)
            }
        }
    }

    /// Commits what is waiting and closes the connection; later `begin`s fail.
    pub(crate) async fn close(&self) {
        let mut state = self.state.lock().await;
        state.commit().await;
        if let Some(conn) = state.conn.take()
            && let Err(error) = conn.close().await
        {
            tracing::warn!(service = %state.service, %error, "closing the writer failed");
        }
        self.work.notify_one();
    }
}

impl State {
    fn conn(&mut self) -> Result<&mut AnyConnection, sqlx::Error> {
        self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Rolls back the savepoint of a member that was dropped inside it. When even that
    /// fails, the group's transaction is gone (SQLite rolls the whole of it back after an
    /// I/O error or a full disk): its waiting members fail with it.
    async fn settle(&mut self) -> Result<(), sqlx::Error> {
        if !self.abandoned {
            return Ok(());
        }
        self.abandoned = false;
        let conn = self.conn()?;
        let undone = conn
            .execute("ROLLBACK TO SAVEPOINT member; RELEASE SAVEPOINT member")
            .await;
        if let Err(error) = undone {
            self.fail(&error.to_string()).await;
            return Err(error);
        }
        Ok(())
    }

    /// Commits the group: every waiting member learns the outcome.
    async fn commit(&mut self) {
        if let Err(error) = self.settle().await {
            tracing::warn!(service = %self.service, %error, "rolling back a savepoint failed");
        }
        if !self.open {
            return;
        }
        let Ok(conn) = self.conn() else {
            return;
        };
        let since = Instant::now();
        let committed = conn.execute("COMMIT").await;
        Counts::add(&self.counts.committing_ns, since);
        match committed {
            Ok(_) => {
                self.open = false;
                if !self.waiting.is_empty() {
                    self.counts.groups.fetch_add(1, Ordering::Relaxed);
                    let members = self.waiting.len() as u64;
                    self.counts
                        .transactions
                        .fetch_add(members, Ordering::Relaxed);
                }
                metrics::histogram!("db_commit_group_size", "service" => self.service.clone())
                    .record(self.waiting.len() as f64);
                for member in self.waiting.drain(..) {
                    let _ = member.send(Ok(()));
                }
            }
            Err(error) => self.fail(&error.to_string()).await,
        }
    }

    /// Ends the group's transaction, failed: its waiting members are told why.
    async fn fail(&mut self, why: &str) {
        tracing::warn!(service = %self.service, error = why, "a commit group failed");
        if let Some(conn) = self.conn.as_mut() {
            // Nothing to roll back when SQLite already did.
            let _ = conn.execute("ROLLBACK").await;
        }
        self.open = false;
        let why: Arc<str> = Arc::from(why);
        for member in self.waiting.drain(..) {
            let _ = member.send(Err(why.clone()));
        }
    }
}

/// Commits each group once the members queued before it have had their turn; ends when the
/// writer is dropped or closed.
async fn committer(state: std::sync::Weak<Mutex<State>>, work: Arc<Notify>) {
    loop {
        work.notified().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        let mut state = state.lock().await;
        if state.conn.is_none() {
            return;
        }
        state.commit().await;
    }
}

/// One transaction in a group: the writer connection, held until it commits or rolls back.
pub(crate) struct Member {
    guard: Option<OwnedMutexGuard<State>>,
    work: Arc<Notify>,
    since: Instant,
}

impl Member {
    fn state(&mut self) -> &mut State {
        self.guard
            .as_mut()
            .expect("a member holds the writer until it ends")
    }

    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        self.state()
            .conn
            .as_mut()
            .expect("a member's writer is open: closing waits for it")
    }

    pub(crate) fn conn_ref(&self) -> &AnyConnection {
        self.guard
            .as_ref()
            .and_then(|state| state.conn.as_ref())
            .expect("a member holds an open writer until it ends")
    }

    /// Releases the savepoint, lets the next transaction run and waits for the group's
    /// commit.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let Some(mut state) = self.guard.take() else {
            return Ok(());
        };
        let released = state.conn()?.execute("RELEASE SAVEPOINT member").await;
        Counts::add(&state.counts.held_ns, self.since);
        if let Err(error) = released {
            state.abandoned = true;
            drop(state);
            self.work.notify_one();
            return Err(error);
        }
        let (told, outcome) = oneshot::channel();
        state.waiting.push(told);
        drop(state);
        self.work.notify_one();
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(sqlx::Error::Io(std::io::Error::other(why.to_string()))),
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
    }

    /// Undoes the savepoint's work; the rest of the group is unaffected.
    pub(crate) async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let Some(mut state) = self.guard.take() else {
            return Ok(());
        };
        state.abandoned = true;
        let settled = state.settle().await;
        Counts::add(&state.counts.held_ns, self.since);
        drop(state);
        self.work.notify_one();
        settled
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // Neither committed nor rolled back (an error, a cancelled request): the next
        // holder of the writer rolls the savepoint back before anything else.
        if let Some(mut state) = self.guard.take() {
            state.abandoned = true;
            Counts::add(&state.counts.held_ns, self.since);
            drop(state);
            self.work.notify_one();
        }
    }
}
