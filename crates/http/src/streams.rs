//! Live streams (server-sent events) per user, counted in this process: a user holds at
//! most `per_user` open at once, whatever the route (429 past it). A stream ends when the
//! access token that opened it expires, so that it never outlives what the gateway would
//! accept, or when the user's sessions are ended (disabled, role changed); a token issued
//! before that opens no stream again. A handler takes a [`StreamPass`] and sends its
//! events through [`StreamPass::follow`]; the pass is given back when the stream ends,
//! however it ends.

use crate::auth::{LEEWAY_SECONDS, TokenLife};
use crate::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use uuid::Uuid;

/// How long a client refused for having too many streams open is asked to wait: about
/// the time a page takes to close the streams it leaves behind.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Every user's open streams in this process. Routes reach it as a request extension
/// (`Extension(Arc<Streams>)` on their router).
#[derive(Debug)]
pub struct Streams {
    per_user: usize,
    users: Mutex<HashMap<Uuid, User>>,
}

#[derive(Debug)]
struct User {
    open: usize,
    /// The second the user's sessions ended: tokens issued then or before open nothing.
    ended_at: Option<i64>,
    /// When every such token has expired and the end need not be remembered.
    forget_at: i64,
    /// Told when the sessions end; every open stream of the user listens.
    end: watch::Sender<()>,
}

impl User {
    fn new() -> Self {
        User {
            open: 0,
            ended_at: None,
            forget_at: 0,
            end: watch::Sender::new(()),
        }
    }

    fn idle(&self, now: i64) -> bool {
        self.open == 0 && (self.ended_at.is_none() || self.forget_at < now)
    }
}

impl Streams {
    #[must_use]
    pub fn new(per_user: usize) -> Arc<Self> {
        Arc::new(Streams {
            per_user,
            users: Mutex::new(HashMap::new()),
        })
    }

    fn users(&self) -> MutexGuard<'_, HashMap<Uuid, User>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A stream for `user`, whose token lives `life`.
    ///
    /// # Errors
    /// 401 for a token past its expiry or issued before the user's sessions ended; 429
    /// with `Retry-After` when the user has `per_user` streams open.
    pub fn open(self: &Arc<Self>, user: Uuid, life: TokenLife) -> Result<StreamPass, Problem> {
        let now = unix_now();
        if life.expires_at <= now {
            return Err(Problem::unauthorized(
                "the access token has expired; renew it to follow a stream",
            ));
        }
        let mut users = self.users();
        // Users whose streams all closed leave entries; sweep them as the map grows.
        if users.len() >= 64 && users.len().is_power_of_two() {
            users.retain(|_, entry| !entry.idle(now));
        }
        let entry = users.entry(user).or_insert_with(User::new);
        if entry.ended_at.is_some_and(|ended| life.issued_at <= ended) {
            return Err(Problem::unauthorized(
                "the session has ended; log in again to follow a stream",
            ));
        }
        if entry.open >= self.per_user {
            let detail = format!(
                "at most {} live streams per user at once; close one first",
                self.per_user
            );
            return Err(Problem::too_many(detail, RETRY_AFTER));
        }
        entry.open += 1;
        Ok(StreamPass {
            streams: self.clone(),
            user,
            expires_at: life.expires_at,
            ended: entry.end.subscribe(),
        })
    }

    /// The user's sessions ended now (disabled, or their role changed): their open streams
    /// end, and tokens issued to them until now, which live `token_ttl` at most, open none.
    pub fn end_sessions(&self, user: Uuid, token_ttl: Duration) {
        let now = unix_now();
        let ttl = i64::try_from(token_ttl.as_secs()).unwrap_or(i64::MAX);
        let leeway = i64::try_from(LEEWAY_SECONDS).unwrap_or(i64::MAX);
        let mut users = self.users();
        let entry = users.entry(user).or_insert_with(User::new);
        entry.ended_at = Some(now);
        entry.forget_at = now.saturating_add(ttl).saturating_add(leeway);
        entry.end.send_replace(());
    }

    fn close(&self, user: Uuid) {
        let now = unix_now();
        let mut users = self.users();
        if let Some(entry) = users.get_mut(&user) {
            entry.open = entry.open.saturating_sub(1);
            if entry.idle(now) {
                users.remove(&user);
            }
        }
    }
}

/// One open stream of a user, counted until it is dropped. As an extractor: the caller's
/// (401 without a token) from the route's `Arc<Streams>`.
#[derive(Debug)]
pub struct StreamPass {
    streams: Arc<Streams>,
    user: Uuid,
    expires_at: i64,
    ended: watch::Receiver<()>,
}

impl StreamPass {
    /// `events` until they end, the token expires or the user's sessions end, whichever
    /// comes first; the pass is given back as soon as the stream ends, before the client
    /// reads its end. A stream that ends without its own last event is for the client to
    /// resume (`Last-Event-ID`), with new tokens if need be.
    pub fn follow<S: Stream>(self, events: S) -> impl Stream<Item = S::Item> {
        let left = u64::try_from(self.expires_at - unix_now()).unwrap_or(0);
        let expiry = tokio::time::Instant::now() + Duration::from_secs(left);
        futures_util::stream::unfold(
            (Box::pin(events), self),
            move |(mut events, mut pass)| async move {
                let next = tokio::select! {
                    next = events.next() => next,
                    () = tokio::time::sleep_until(expiry) => None,
                    // Also when the sender is gone, which it is not while this pass counts.
                    _ = pass.ended.changed() => None,
                };
                // On `None` the pass is dropped here, with the stream's state.
                next.map(|item| (item, (events, pass)))
            },
        )
    }
}

impl Drop for StreamPass {
    fn drop(&mut self) {
        self.streams.close(self.user);
    }
}

/// A route that takes a [`StreamPass`] without `Arc<Streams>` beside it.
#[derive(Debug, thiserror::Error)]
#[error("this route is given no Streams extension")]
struct NotWired;

impl<S: Send + Sync> FromRequestParts<S> for StreamPass {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let streams = parts
            .extensions
            .get::<Arc<Streams>>()
            .ok_or_else(|| Problem::internal(&NotWired))?;
        let (Some(caller), Some(life)) = (
            parts.extensions.get::<ordo_kernel::Caller>(),
            parts.extensions.get::<TokenLife>(),
        ) else {
            return Err(Problem::unauthorized("this action needs a bearer token"));
        };
        streams.open(caller.user_id, *life)
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use futures_util::FutureExt;

    fn living(issued_ago: i64, expires_in: i64) -> TokenLife {
        let now = unix_now();
        TokenLife {
            issued_at: now - issued_ago,
            expires_at: now + expires_in,
        }
    }

    #[test]
    fn a_user_holds_at_most_the_cap_and_a_closed_stream_gives_its_place_back() {
        let streams = Streams::new(2);
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let first = streams.open(ann, living(0, 600)).unwrap();
        let _second = streams.open(ann, living(0, 600)).unwrap();
        let refused = streams.open(ann, living(0, 600)).unwrap_err();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            streams.open(bob, living(0, 600)).is_ok(),
            "each user their own"
        );
        drop(first);
        assert!(streams.open(ann, living(0, 600)).is_ok());
    }

    #[test]
    fn an_expired_token_opens_nothing() {
        let streams = Streams::new(2);
        let refused = streams.open(Uuid::now_v7(), living(900, 0)).unwrap_err();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn ended_sessions_end_the_streams_and_refuse_the_tokens_issued_before() {
        let streams = Streams::new(1);
        let ann = Uuid::now_v7();
        let pass = streams.open(ann, living(0, 600)).unwrap();
        let mut followed = Box::pin(pass.follow(futures_util::stream::pending::<()>()));
        assert!(followed.next().now_or_never().is_none(), "open");

        streams.end_sessions(ann, Duration::from_secs(600));
        assert_eq!(followed.next().await, None, "ended");
        let refused = streams.open(ann, living(0, 600)).unwrap_err();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let later = TokenLife {
            issued_at: unix_now() + 1,
            expires_at: unix_now() + 600,
        };
        let again = streams.open(ann, later);
        assert!(
            again.is_ok(),
            "a new login's token does, in the place given back"
        );
    }
}
