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
//!
//! A member's statements run on its caller's thread while it holds the connection (`sqlite`);
//! the group's `BEGIN` (which may wait for another process's lock) and `COMMIT` (which
//! waits for the disk) run on a blocking thread. A member's end (release or roll back its
//! savepoint) is run with whatever runs next on the connection: the next member's
//! `SAVEPOINT`, or the group's `COMMIT`.

use crate::Error;
use rusqlite::Connection;
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
    /// `None` once closed, and while a blocking thread has it.
    conn: Option<Connection>,
    /// The group's `BEGIN` was issued and neither committed nor rolled back.
    open: bool,
    /// Members that committed, waiting for the group's commit.
    waiting: Vec<oneshot::Sender<Outcome>>,
    /// How the last member ended, not yet sent to SQLite.
    ending: Option<Ending>,
    service: String,
    counts: Arc<Counts>,
}

/// How a member's savepoint ends.
#[derive(Debug, Clone, Copy)]
enum Ending {
    Release,
    RollBack,
}

impl Ending {
    /// The last member's end, if any, then `SAVEPOINT member`: one round trip.
    fn then_savepoint(ending: Option<Ending>) -> &'static str {
        match ending {
            None => "SAVEPOINT member",
            Some(Ending::Release) => "RELEASE SAVEPOINT member; SAVEPOINT member",
            Some(Ending::RollBack) => {
                "ROLLBACK TO SAVEPOINT member; RELEASE SAVEPOINT member; SAVEPOINT member"
            }
        }
    }

    /// The last member's end, if any, then `COMMIT`: one round trip.
    fn then_commit(ending: Option<Ending>) -> &'static str {
        match ending {
            None => "COMMIT",
            Some(Ending::Release) => "RELEASE SAVEPOINT member; COMMIT",
            Some(Ending::RollBack) => {
                "ROLLBACK TO SAVEPOINT member; RELEASE SAVEPOINT member; COMMIT"
            }
        }
    }
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
    pub(crate) fn start(conn: Connection, service: &str, acquire_timeout: Duration) -> Self {
        let counts = Arc::new(Counts::default());
        let state = Arc::new(Mutex::new(State {
            conn: Some(conn),
            open: false,
            waiting: Vec::new(),
            ending: None,
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
    pub(crate) async fn begin(&self) -> Result<Member, Error> {
        let locked = tokio::time::timeout(self.acquire_timeout, self.state.clone().lock_owned());
        let state = locked.await.map_err(|_| Error::Busy)?;
        let since = Instant::now();
        // A group already open takes the savepoint at once, on this thread. Opening a group
        // waits on a blocking thread, so it runs in a task of its own, to the end even when
        // the caller goes away (a request cancelled by its client): the state must always
        // say what SQLite did. A caller gone leaves an empty savepoint in the group,
        // committed with it.
        let opened = if state.open {
            open(state).await?
        } else {
            tokio::spawn(open(state))
                .await
                .map_err(|_| Error::Closed)??
        };
        Ok(Member {
            guard: Some(opened),
            work: self.work.clone(),
            since,
        })
    }

    /// Commits what is waiting and closes the connection; later `begin`s fail.
    pub(crate) async fn close(&self) {
        let mut state = self.state.lock().await;
        state.commit().await;
        if let Some(conn) = state.conn.take()
            && let Err((_, error)) = conn.close()
        {
            tracing::warn!(service = %state.service, %error, "closing the writer failed");
        }
        self.work.notify_one();
    }
}

/// Opens a member's savepoint: the group's `BEGIN` first when none is open, else after the
/// last member's end, in one call.
async fn open(mut state: OwnedMutexGuard<State>) -> Result<OwnedMutexGuard<State>, Error> {
    // A group not open has no member's end pending: `commit` and `fail` took it.
    let ending = state.ending.take();
    let opened = if state.open {
        state
            .conn()
            .and_then(|conn| Ok(conn.execute_batch(Ending::then_savepoint(ending))?))
    } else {
        match state.blocking("BEGIN IMMEDIATE").await {
            Ok(()) => state
                .conn()
                .and_then(|conn| Ok(conn.execute_batch("SAVEPOINT member")?)),
            Err(error) => Err(error),
        }
    };
    match opened {
        Ok(()) => {
            state.open = true;
            Ok(state)
        }
        Err(error) => {
            // Whatever of the group was in SQLite's hands is in doubt: it fails whole.
            state.fail(&error.to_string());
            Err(error)
        }
    }
}

impl State {
    fn conn(&self) -> Result<&Connection, Error> {
        self.conn.as_ref().ok_or(Error::Closed)
    }

    /// Runs `sql` on a blocking thread: it may wait for the disk or another process.
    async fn blocking(&mut self, sql: &'static str) -> Result<(), Error> {
        let conn = self.conn.take().ok_or(Error::Closed)?;
        let (conn, done) = tokio::task::spawn_blocking(move || {
            let done = conn.execute_batch(sql);
            (conn, done)
        })
        .await
        .map_err(|_| Error::Closed)?;
        self.conn = Some(conn);
        Ok(done?)
    }

    /// Commits the group: every waiting member learns the outcome.
    async fn commit(&mut self) {
        if !self.open {
            return;
        }
        let sql = Ending::then_commit(self.ending.take());
        if self.conn.is_none() {
            return;
        }
        let since = Instant::now();
        let committed = self.blocking(sql).await;
        Counts::add(&self.counts.committing_ns, since);
        match committed {
            Ok(()) => {
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
            Err(error) => self.fail(&error.to_string()),
        }
    }

    /// Ends the group's transaction, failed (SQLite may have rolled it back already, after
    /// an I/O error or a full disk): its waiting members are told why.
    fn fail(&mut self, why: &str) {
        tracing::warn!(service = %self.service, error = why, "a commit group failed");
        if let Some(conn) = self.conn.as_ref()
            && !conn.is_autocommit()
        {
            let _ = conn.execute_batch("ROLLBACK");
        }
        self.open = false;
        self.ending = None;
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
    pub(crate) fn conn(&self) -> &Connection {
        self.guard
            .as_ref()
            .and_then(|state| state.conn.as_ref())
            .expect("a member holds an open writer until it ends")
    }

    /// Ends the savepoint's work as kept, lets the next transaction run and waits for the
    /// group's commit.
    pub(crate) async fn commit(mut self) -> Result<(), Error> {
        let (told, outcome) = oneshot::channel();
        self.end(Ending::Release, Some(told));
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(Error::GroupFailed(why.to_string())),
            Err(_) => Err(Error::Closed),
        }
    }

    /// Undoes the savepoint's work; the rest of the group is unaffected.
    pub(crate) fn rollback(mut self) {
        self.end(Ending::RollBack, None);
    }

    /// Lets go of the writer, the savepoint's end to be sent with the next statement.
    fn end(&mut self, ending: Ending, waiting: Option<oneshot::Sender<Outcome>>) {
        if let Some(mut state) = self.guard.take() {
            state.ending = Some(ending);
            state.waiting.extend(waiting);
            Counts::add(&state.counts.held_ns, self.since);
            drop(state);
            self.work.notify_one();
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // Neither committed nor rolled back: an error, or a cancelled request.
        self.end(Ending::RollBack, None);
    }
}
